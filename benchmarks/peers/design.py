"""The driver of a published design of the chaos testbed (:mod:`duetime.chaos.designs`).

Runs in the main environment. Which design: ``$BENCH_DESIGN`` (a name from
``duetime.chaos.designs.DESIGNS``), set by the benchmark's ``Driver``. ``enqueue`` calls the
design's client once per task (designs have no batch API); ``work`` runs the design's
``run_worker`` until SIGTERM with the handler ``noop``.

Settings: ``default`` is the designs' command-line default, concurrency 4;
``tuned`` is concurrency 32 (both in :mod:`benchmarks.systems`). A design whose dispatcher runs in
``every`` worker process gets ``dispatch=True`` in each; one whose dispatcher runs in the
``first`` only has the processes of one measurement (one ``--out`` folder) elect it through
Redis: each ``INCR``\\s the same key, and the process that gets 1 dispatches.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from types import ModuleType

import redis

from benchmarks.peers import probe
from benchmarks.systems import DESIGN_DEFAULT_CONCURRENCY, DESIGN_ENV, DESIGN_TUNED_CONCURRENCY
from duetime.chaos.designs import DESIGNS, Design, DesignClient
from duetime.chaos.designs.contract import Delivery
from duetime.chaos.designs.process import WorkerOptions

NAMESPACE = probe.QUEUE
LEASE_S = 30.0  # the designs' worker default; used by designs with a lease
ELECTION_TTL_S = 86_400


def design_from_env() -> Design:
    name = os.environ.get(DESIGN_ENV, "")
    if name not in DESIGNS:
        raise SystemExit(f"${DESIGN_ENV} must name a design from {', '.join(DESIGNS)}: {name!r}")
    return DESIGNS[name]


def concurrency(config: str) -> int:
    return DESIGN_TUNED_CONCURRENCY if config == "tuned" else DESIGN_DEFAULT_CONCURRENCY


def election_key(run_folder: str) -> str:
    """The key the worker processes of one measurement (one ``--out`` folder) elect with."""
    return f"{NAMESPACE}:bench-dispatcher:{run_folder}"


def runs_dispatcher(dispatcher: str, ticket: Callable[[], int]) -> bool:
    """Whether this process runs the design's dispatcher.

    ``every``: yes; ``none``: no; ``first``: if ``ticket()`` (an atomic counter shared by
    the measurement's processes, called only then) gives 1. ``process`` (the chaos
    testbed runs the dispatcher as a process of its own) is run as ``first``: the
    benchmark starts worker processes only.
    """
    if dispatcher == "every":
        return True
    if dispatcher in ("first", "process"):
        return ticket() == 1
    return False


def elect(url: str, key: str) -> int:
    """This process's ticket: ``INCR key`` (kept a day; FLUSHALL clears it anyway)."""
    r = redis.Redis.from_url(url)
    try:
        with r.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, ELECTION_TTL_S)
            ticket, _ = pipe.execute()
        return int(ticket)
    finally:
        r.close()


def _module(design: Design) -> ModuleType:
    return importlib.import_module(design.module)


class _Producer:
    def __init__(self, url: str) -> None:
        self.client: DesignClient = _module(design_from_env()).client(url, NAMESPACE)

    def single(self, job: probe.Job) -> None:
        self.client.schedule_task(
            job.due or time.time(),
            job.payload,
            task_type="noop",
            task_id=uuid.uuid4().hex,
            max_attempts=1,
        )

    def batch(self, jobs: Sequence[probe.Job]) -> None:
        raise NotImplementedError("the published designs have no batch API")


def noop(delivery: Delivery) -> None:
    probe.record(delivery.data)


def work(url: str, config: str, procs: int) -> None:
    design = design_from_env()
    module = _module(design)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    key = election_key(probe.out_dir().name)
    dispatch = runs_dispatcher(design.dispatcher, lambda: elect(url, key))
    options = WorkerOptions(
        url=url,
        namespace=NAMESPACE,
        handlers={"noop": noop},
        concurrency=concurrency(config),
        lease_s=LEASE_S,
        dispatch=dispatch,
    )
    probe.ready()
    module.run_worker(options, stop)


if __name__ == "__main__":
    sys.exit(probe.main(producer=_Producer, has_batch=False, work=work))
