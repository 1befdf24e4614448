"""Choosing which process a nemesis hits."""

from __future__ import annotations

import time

from duetime.chaos.system.cluster import WORKER_ROLE

from .base import NemesisContext

POLL_S = 0.05


def busy_worker(ctx: NemesisContext, wait_s: float) -> tuple[str, list[str]] | None:
    """A live worker that is running a handler right now, waiting up to ``wait_s`` for one.

    Returns the worker and the tasks it is running; if none gets busy in time, any
    live worker with an empty task list; None if no worker is alive.
    """
    deadline = time.monotonic() + wait_s
    while True:
        ctx.live.refresh()
        alive = [n for n in ctx.cluster.names(WORKER_ROLE) if ctx.cluster.alive(n)]
        busy = {
            n: [e.task_id for e in ctx.live.running_in(n, ctx.cluster.started_at(n))] for n in alive
        }
        busy = {n: tasks for n, tasks in busy.items() if tasks}
        if busy:
            name = ctx.rng.choice(sorted(busy))
            return name, sorted(busy[name])
        if time.monotonic() >= deadline or ctx.stop.is_set():
            return (ctx.rng.choice(alive), []) if alive else None
        time.sleep(POLL_S)
