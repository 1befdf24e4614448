"""Drain rate: how fast P worker processes run no-op tasks that are all due already.

The tasks are enqueued (the fastest way the system has) while no worker runs; then the
workers start. The rate is taken from the handlers' own start times, between the 10th and
the 90th percentile (:func:`benchmarks.runs.steady_rate`), so worker start-up and the last
stragglers are left out the same way for every system. A drain that has not finished
``drain_cap_s`` after its first run stops there and is rated on what ran. Redis's commands
and CPU are read as the workers are launched and once the drain ends, and divided by the runs
(the workers' start-up is included: a few dozen commands).
"""

from __future__ import annotations

import time
from typing import Any

from ..bench import POLL_S, STARTUP_TIMEOUT_S, Bench
from ..procs import DriverFailed, run_once, started
from ..redisinfo import flush, snapshot
from ..runs import RunLog, steady_rate
from ..systems import Driver
from .watch import check_alive

LOAD_TIMEOUT_S = 900.0


def drain(
    b: Bench,
    d: Driver,
    config: str,
    procs: int,
    n: int | None = None,
    fresh: bool = True,
    cap_s: float | None = None,
) -> dict[str, Any]:
    """Drain ``n`` tasks due now with ``procs`` worker processes at ``config`` settings.

    ``fresh`` empties Redis first; ``cap_s`` overrides ``drain_cap_s``.
    """
    n = n or b.sizes.drain
    cap = b.sizes.drain_cap_s if cap_s is None else cap_s
    if fresh:
        flush(b.client)
    loaded = run_once(d.enqueue(b.url, n, "load"), d.env, LOAD_TIMEOUT_S)
    folder = b.folder(f"{d.system.name}-drain-{config}-{procs}")
    runs = RunLog(folder)
    log = folder / "workers.log"
    first: float | None = None
    launched = time.monotonic()
    before = snapshot(b.client)
    with started(d.workers(b.url, config, procs, folder), d.env, log) as ps:
        while True:
            time.sleep(POLL_S)
            count = runs.poll()
            now = time.monotonic()
            if first is None and count:
                first = now
            if count >= n:
                break
            if first is not None and now - first > cap:
                break
            if first is None:
                check_alive(ps, log)
                if now - launched > STARTUP_TIMEOUT_S:
                    raise DriverFailed(f"no task ran within {STARTUP_TIMEOUT_S:.0f} s; see {log}")
        used = snapshot(b.client).minus(before)
        ran = runs.poll()
    starts = [r.start for r in runs.runs]
    span = max(starts) - min(starts)
    return {
        "tasks": n,
        "ran": len(starts),
        "finished": len(starts) >= n,
        "per_s": steady_rate(starts),
        "overall_per_s": len(starts) / span if span > 0 else float("nan"),
        "load_per_s": n / loaded["seconds"],
        "redis_commands_per_task": used.calls / ran,
        "script_calls_per_task": used.scripts / ran,
        "redis_cpu_us_per_task": used.cpu_s * 1e6 / ran,
    }
