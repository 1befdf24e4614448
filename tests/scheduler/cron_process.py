"""A process that registers a recurring schedule and ticks it until SIGTERM / SIGKILL."""

from __future__ import annotations

import signal
import sys
import threading

from duetime import Scheduler

url, namespace, name, expr = sys.argv[1:5]
sched = Scheduler.from_url(url, namespace=namespace)
sched.schedule_recurring(name, expr, task_type="record", task_data={})
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
sched.run_cron(stop, max_wait_s=0.2)
