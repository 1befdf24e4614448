"""Scale: claim cost and lateness as the backlog of pending tasks grows.

A backlog of tasks due over the next day is loaded (the fastest way the system has, by
two producer processes at once, in parts of 500,000), and grown in place from one level to
the next. At each level, with one worker process at the tuned settings (where claiming,
not a polling interval, bounds the rate): the drain of ``scale_drain`` tasks due now
(:mod:`.drain`: rate, Redis CPU and commands per task) and the lateness of
``scale_precision`` delayed tasks (:mod:`.precision`). Flat cost per task means the same
rate, Redis CPU per task and lateness at every level.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from ..bench import Bench
from ..procs import run_once
from ..redisinfo import flush, used_memory
from ..systems import Driver
from .drain import drain
from .precision import precision

LOAD_PART = 500_000
LOADERS = 2
DAY_S = 86_400.0
PART_TIMEOUT_S = 1800.0
CONFIG = "tuned"
DRAIN_CAP_S = 300.0


def load(b: Bench, d: Driver, n: int) -> float:
    """Add ``n`` tasks due over the next day; return tasks per second."""
    parts = [min(LOAD_PART, n - k) for k in range(0, n, LOAD_PART)]
    due_at = time.time() + DAY_S

    def one(size: int) -> int:
        run_once(d.enqueue(b.url, size, "load", due_at=due_at, spread=DAY_S), d.env, PART_TIMEOUT_S)
        return size

    t0 = time.perf_counter()
    loaded = 0
    with ThreadPoolExecutor(LOADERS) as pool:
        for part in as_completed([pool.submit(one, size) for size in parts]):
            loaded += part.result()
            b.progress.count(f"{d.system.name}: tasks loaded", loaded, n)
    return n / (time.perf_counter() - t0)


def scale(b: Bench, d: Driver, levels: tuple[int, ...]) -> list[dict[str, Any]]:
    """One row per backlog in ``levels`` (ascending): load rate, memory, drain, lateness."""
    flush(b.client)
    rows: list[dict[str, Any]] = []
    loaded = 0
    for level in levels:
        b.progress.step(f"{d.system.name}: backlog of {level:,}")
        b.say(f"{d.system.name}: loading a backlog of {level:,} pending tasks")
        rate = load(b, d, level - loaded)
        loaded = level
        row: dict[str, Any] = {
            "pending": level,
            "load_per_s": rate,
            "used_memory_bytes": used_memory(b.client),
        }
        # Run to the end: tasks left over would run among the delayed ones timed next.
        row["drain"] = drain(b, d, CONFIG, 1, n=b.sizes.scale_drain, fresh=False, cap_s=DRAIN_CAP_S)
        row["lateness"] = precision(
            b, d, CONFIG, n=b.sizes.scale_precision, spread_s=b.sizes.scale_spread_s, fresh=False
        )
        b.say(
            f"{d.system.name}: {level:,} pending: drain {row['drain']['per_s']:,.0f}/s, "
            f"Redis CPU {row['drain']['redis_cpu_us_per_task']:.1f} us/task, lateness p99 "
            f"{row['lateness']['p99_ms']:.1f} ms"
        )
        rows.append(row)
    flush(b.client)
    return rows
