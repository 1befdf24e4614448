"""Enqueue rate: tasks due now, one call per task, then through the batch API if there is one.

One producer process; the time covers the enqueue calls only. Batches are 1,000 tasks.
"""

from __future__ import annotations

from typing import Any

from ..bench import Bench
from ..procs import run_once
from ..redisinfo import flush
from ..systems import Driver

TIMEOUT_S = 600.0


def rates(b: Bench, d: Driver) -> dict[str, Any]:
    """``single_per_s``, and ``batch_per_s`` where the system has a batch API."""
    out: dict[str, Any] = {}
    flush(b.client)
    r = run_once(d.enqueue(b.url, b.sizes.single, "single"), d.env, TIMEOUT_S)
    out["single_per_s"] = r["n"] / r["seconds"]
    if d.system.batch_api:
        flush(b.client)
        r = run_once(d.enqueue(b.url, b.sizes.batch, "batch"), d.env, TIMEOUT_S)
        out["batch_per_s"] = r["n"] / r["seconds"]
    flush(b.client)
    return out
