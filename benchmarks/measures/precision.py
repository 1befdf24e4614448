"""Delayed-task precision: N tasks due evenly over a spread, run by one worker process.

The worker starts first and says it is ready; then one producer enqueues every task (the
fastest way the system has), the first due ``lead_s`` after it connected. Lateness is the
handler's start time minus the due time in the payload (whole milliseconds), for each
task's first run: p50, p99 (nearest rank), max; tasks that started before their due time
(early), that never ran within ``grace_s`` after the last due time (missing), and extra runs
(duplicates). ``enqueued_in_time`` says whether the producer finished before the first was due.
"""

from __future__ import annotations

import time
from typing import Any

from ..bench import POLL_S, Bench
from ..procs import run_once, started
from ..redisinfo import flush
from ..runs import RunLog, lateness
from ..systems import Driver
from .watch import check_alive, wait_ready

ENQUEUE_TIMEOUT_S = 300.0


def precision(
    b: Bench,
    d: Driver,
    config: str,
    n: int | None = None,
    spread_s: float | None = None,
    fresh: bool = True,
) -> dict[str, Any]:
    """Lateness of ``n`` tasks due over ``spread_s``, one worker process at ``config``."""
    n = n or b.sizes.precision
    spread = b.sizes.spread_s if spread_s is None else spread_s
    if fresh:
        flush(b.client)
    folder = b.folder(f"{d.system.name}-precision-{config}")
    runs = RunLog(folder)
    log = folder / "workers.log"
    with started(d.workers(b.url, config, 1, folder), d.env, log) as ps:
        wait_ready(runs, ps, 1, log)
        sent = run_once(
            d.enqueue(b.url, n, "load", due_in=b.sizes.lead_s, spread=spread),
            d.env,
            ENQUEUE_TIMEOUT_S,
        )
        last_due = sent["first_due"] + spread
        while runs.poll() < n and time.time() < last_due + b.sizes.grace_s:
            check_alive(ps, log)
            time.sleep(POLL_S)
    out = lateness(runs.runs, n)
    out["spread_s"] = spread
    out["enqueue_per_s"] = n / sent["seconds"]
    out["enqueued_in_time"] = sent["finished_at"] <= sent["first_due"]
    return out
