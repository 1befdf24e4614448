"""Redis memory per pending task, beyond its payload.

``used_memory`` before and after enqueuing N tasks (no worker running), divided by N, minus
the payload: ``{"i": ..., "due": ..., "pad": "x" * pad}`` as compact JSON (each system
encodes it its own way; what it adds is overhead too). Measured for delayed tasks (due
within the next hour) and for tasks due now, after ``FLUSHALL`` and ``MEMORY PURGE``.
"""

from __future__ import annotations

import json
from typing import Any

from ..bench import Bench
from ..procs import run_once
from ..redisinfo import flush, used_memory
from ..systems import Driver

TIMEOUT_S = 600.0
HOUR_S = 3600.0


def payload_bytes(pad: int, delayed: bool) -> int:
    """Length of the test payload as compact JSON."""
    sample = {"i": 10_000, "due": 1_800_000_000.123 if delayed else 0, "pad": "x" * pad}
    return len(json.dumps(sample, separators=(",", ":")))


def memory(b: Bench, d: Driver) -> dict[str, Any]:
    """Bytes per task and beyond the payload, for delayed tasks and for tasks due now."""
    n, pad = b.sizes.memory, b.sizes.pad
    out: dict[str, Any] = {}
    for kind, delayed in (("delayed", True), ("due_now", False)):
        flush(b.client)
        before = used_memory(b.client)
        due_in = spread = HOUR_S if delayed else 0.0
        run_once(
            d.enqueue(b.url, n, "load", pad=pad, due_in=due_in, spread=spread), d.env, TIMEOUT_S
        )
        per_task = (used_memory(b.client) - before) / n
        payload = payload_bytes(pad, delayed)
        out[kind] = {
            "tasks": n,
            "bytes_per_task": per_task,
            "payload_bytes": payload,
            "overhead_bytes": per_task - payload,
        }
    flush(b.client)
    return out
