"""A cron-scheduler process: registers the run's schedules, then ticks until SIGTERM.

``python -m duetime.chaos.system.cron_process --url URL --namespace NS --schedules JSON
[--shards N]``. It
records ``cron-ready`` in the sink just before it starts ticking, so the cron
checker knows when it was up.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from collections.abc import Sequence

from duetime.chaos.client.handlers import CRON_TASK_TYPE
from duetime.chaos.client.workload import CronSpec
from duetime.chaos.history.ops import CRON_READY
from duetime.chaos.history.sink import EventSink
from duetime.chaos.system.run_config import shard_options

REGISTER_RETRY_S = 0.2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duetime.chaos.system.cron_process")
    parser.add_argument("--url", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--schedules", required=True, help="JSON list of CronSpec fields")
    parser.add_argument(
        "--allow-eviction", action="store_true", help="accept an evicting maxmemory-policy"
    )
    parser.add_argument(
        "--shards", type=int, default=1, help="the namespace's shard count (a cluster run's)"
    )
    args = parser.parse_args(argv)

    from duetime import Scheduler, SchedulerError

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    specs = [CronSpec(**raw) for raw in json.loads(args.schedules)]
    sched = Scheduler.from_url(
        args.url,
        namespace=args.namespace,
        allow_eviction=args.allow_eviction,
        **shard_options(args.shards),
    )
    sink = EventSink.from_env()
    while not stop.is_set():
        try:
            for spec in specs:
                sched.schedule_recurring(
                    spec.name,
                    spec.expr,
                    task_type=CRON_TASK_TYPE,
                    task_data={"work_s": spec.work_s},
                    misfire=spec.misfire,
                    timezone=spec.timezone,
                )
            break
        except SchedulerError:
            stop.wait(REGISTER_RETRY_S)
    sink.record("info", CRON_READY, {"pid": os.getpid()})
    sched.run_cron(stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
