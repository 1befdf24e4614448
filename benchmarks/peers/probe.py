"""What every Python driver shares: its command line, the task payloads, and the record of runs.

Standard library only: this module is imported inside every system's own virtualenv.

The measuring is the same for every system (the Node driver for BullMQ does the same):

- A task's payload is ``{"i": index, "due": epoch seconds, "pad": "x" * pad}``. ``due`` is a
  whole millisecond, or 0 for a task that should run at once (enqueued through the
  system's "now" API, not its delayed one).
- The handler's first act is :func:`record`: one ``O_APPEND`` write of ``"i due start\\n"``
  (``start`` is ``time.time()``) to ``$BENCH_OUT/runs.<process group>`` (one file per
  launched worker command, whatever processes it forks). Nothing is buffered, so a process
  that forks per task or is killed loses nothing. A handler does nothing else.
- A worker process calls :func:`ready` when it is about to take tasks.
- ``enqueue`` prints one JSON line: ``{"n", "seconds", "first_due", "finished_at"}``;
  ``seconds`` covers the enqueue calls only (connecting and building payloads excluded).
- Logging is set to WARNING for every system in every setting, so no system pays for a
  log line per task.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

OUT_ENV = "BENCH_OUT"
URL_ENV = "BENCH_URL"
CONFIG_ENV = "BENCH_CONFIG"
QUEUE = "bench"
# Batch APIs are called with this many tasks per call, for every system.
BATCH = 1000
# Systems without a batch API load backlogs with this many calls in flight (asyncio only).
CONCURRENT_LOAD = 100
MODES = ("single", "batch", "load")
CONFIGS = ("default", "tuned")

_lock = threading.Lock()
_fd: int | None = None
_fd_pid = 0


@dataclass(frozen=True)
class Job:
    """One task to enqueue: its payload and when it is due (0: now)."""

    payload: dict[str, Any]
    due: float


class Producer(Protocol):
    def single(self, job: Job) -> None: ...

    def batch(self, jobs: Sequence[Job]) -> None: ...


class AsyncProducer(Protocol):
    async def single(self, job: Job) -> None: ...

    async def batch(self, jobs: Sequence[Job]) -> None: ...


def out_dir() -> Path:
    return Path(os.environ[OUT_ENV])


def record(payload: Mapping[str, Any]) -> None:
    """Note that the task with this payload started now (call it first in a handler)."""
    start = time.time()
    global _fd, _fd_pid
    pid = os.getpid()
    if _fd_pid != pid:
        with _lock:
            if _fd_pid != pid:
                path = out_dir() / f"runs.{os.getpgid(0)}"
                _fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                _fd_pid = pid
    assert _fd is not None
    os.write(_fd, f"{payload['i']} {payload['due']} {start:.6f}\n".encode())


def ready() -> None:
    """Note that this process is about to take tasks."""
    (out_dir() / f"ready.{os.getpid()}").touch()


def jobs(n: int, first_due: float, spread_s: float, pad: int) -> list[Job]:
    """``n`` jobs, due evenly from ``first_due`` over ``spread_s`` (whole ms; 0 = now)."""
    filler = "x" * pad
    if first_due == 0:
        return [Job({"i": i, "due": 0, "pad": filler}, 0.0) for i in range(n)]
    start_ms = math.ceil(first_due * 1000)
    out = []
    for i in range(n):
        due = (start_ms + round(spread_s * 1000 * i / n)) / 1000
        out.append(Job({"i": i, "due": due, "pad": filler}, due))
    return out


def chunks(items: Sequence[Job], size: int = BATCH) -> list[Sequence[Job]]:
    return [items[k : k + size] for k in range(0, len(items), size)]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("enqueue", help="enqueue tasks, print how long it took")
    e.add_argument("--url", required=True)
    e.add_argument("--n", type=int, required=True)
    e.add_argument("--mode", choices=MODES, default="single")
    e.add_argument("--pad", type=int, default=0, help="bytes of filler in each payload")
    when = e.add_mutually_exclusive_group()
    when.add_argument("--due-at", type=float, default=0.0, help="epoch seconds of the first")
    when.add_argument("--due-in", type=float, default=0.0, help="seconds from connecting")
    e.add_argument("--spread", type=float, default=0.0, help="seconds over which they fall due")
    w = sub.add_parser("work", help="run a worker until SIGTERM")
    w.add_argument("--url", required=True)
    w.add_argument("--config", choices=CONFIGS, default="default")
    w.add_argument("--procs", type=int, default=1)
    w.add_argument("--out", type=Path, required=True)
    return p


def _first_due(args: argparse.Namespace) -> float:
    if args.due_in:
        return float(time.time() + args.due_in)
    return float(args.due_at)


def _report(n: int, seconds: float, work: Sequence[Job]) -> None:
    first = work[0].due if work else 0.0
    print(json.dumps({"n": n, "seconds": seconds, "first_due": first, "finished_at": time.time()}))


def _enqueue(args: argparse.Namespace, make: Callable[[str], Producer], has_batch: bool) -> None:
    producer = make(args.url)
    work = jobs(args.n, _first_due(args), args.spread, args.pad)
    batched = args.mode == "batch" or (args.mode == "load" and has_batch)
    t0 = time.perf_counter()
    if batched:
        for part in chunks(work):
            producer.batch(part)
    else:
        for job in work:
            producer.single(job)
    _report(args.n, time.perf_counter() - t0, work)


async def _enqueue_async(
    args: argparse.Namespace, make: Callable[[str], Awaitable[AsyncProducer]], has_batch: bool
) -> None:
    producer = await make(args.url)
    work = jobs(args.n, _first_due(args), args.spread, args.pad)
    t0 = time.perf_counter()
    if args.mode == "batch" or (args.mode == "load" and has_batch):
        for part in chunks(work):
            await producer.batch(part)
    elif args.mode == "load":
        for part in chunks(work, CONCURRENT_LOAD):
            await asyncio.gather(*(producer.single(j) for j in part))
    else:
        for job in work:
            await producer.single(job)
    _report(args.n, time.perf_counter() - t0, work)


def _setup_work(args: argparse.Namespace) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ[OUT_ENV] = str(args.out)
    os.environ[URL_ENV] = args.url
    os.environ[CONFIG_ENV] = args.config


def main(
    *,
    producer: Callable[[str], Producer] | None = None,
    async_producer: Callable[[str], Awaitable[AsyncProducer]] | None = None,
    has_batch: bool,
    work: Callable[[str, str, int], None],
    argv: Sequence[str] | None = None,
) -> int:
    """Run a driver: ``enqueue`` through ``producer`` (or ``async_producer``), or ``work``.

    ``work(url, config, procs)`` runs until SIGTERM with ``procs`` processes taking tasks.
    """
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    if args.command == "enqueue":
        if args.mode == "batch" and not has_batch:
            print("this system has no batch API", file=sys.stderr)
            return 3
        if async_producer is not None:
            asyncio.run(_enqueue_async(args, async_producer, has_batch))
        else:
            assert producer is not None
            _enqueue(args, producer, has_batch)
        return 0
    _setup_work(args)
    work(args.url, args.config, args.procs)
    return 0
