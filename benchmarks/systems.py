"""The systems compared: how each is installed, which driver runs it, and its two settings.

Each system's own code (enqueue, batch, worker start-up, settings) is its driver,
``benchmarks/peers/<name>.py`` (``bullmq.cjs`` for BullMQ); this module says how to install
and launch it. Versions are pinned; the run records ``pip freeze`` of every venv.

The published designs of the chaos testbed (:mod:`duetime.chaos.designs`) are measured too, each
through the one driver ``benchmarks/peers/design.py`` (``$BENCH_DESIGN`` names it). They
are not peers to beat: the report shows them in a table of their own, what each design
costs next to what the chaos matrix shows it guarantees.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from duetime.chaos.designs import DESIGNS, Design

from .envs import NodeEnv, PythonEnv

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
# The design driver (benchmarks.peers.design): which design, and its two settings.
DESIGN_ENV = "BENCH_DESIGN"
DESIGN_DEFAULT_CONCURRENCY = 4  # the designs' worker default (duetime.chaos.designs.process)
DESIGN_TUNED_CONCURRENCY = 32


@dataclass(frozen=True)
class System:
    """One task system and how to run its driver."""

    name: str
    version: str
    env: PythonEnv | NodeEnv | None  # None: the main environment
    batch_api: str | None
    settings: Mapping[str, str]
    # Settings in which one worker command starts all P processes itself.
    pool_configs: frozenset[str] = frozenset()
    # Why backlogs of a million and more are not tried for this system (None: they are,
    # when loading them would take less than the scale budget).
    scale_note: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The chaos testbed's design this system is (a name in duetime.chaos.designs.DESIGNS), or None
    # for duetime and its peers.
    design: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name

    @property
    def driver_module(self) -> str:
        """The driver's module under ``benchmarks.peers``."""
        return "design" if self.design else self.name


@dataclass(frozen=True)
class Driver:
    """A system's driver made runnable: the command prefix and its environment."""

    system: System
    prefix: tuple[str, ...]
    env: Mapping[str, str]

    def enqueue(
        self,
        url: str,
        n: int,
        mode: str,
        *,
        pad: int = 0,
        due_at: float = 0.0,
        due_in: float = 0.0,
        spread: float = 0.0,
    ) -> list[str]:
        cmd = [*self.prefix, "enqueue", "--url", url, "--n", str(n), "--mode", mode]
        cmd += ["--pad", str(pad), "--spread", repr(spread)]
        if due_in:
            cmd += ["--due-in", repr(due_in)]
        elif due_at:
            cmd += ["--due-at", repr(due_at)]
        return cmd

    def workers(self, url: str, config: str, procs: int, out: Path) -> list[list[str]]:
        """The commands that together run ``procs`` worker processes."""

        def one(p: int) -> list[str]:
            args = ["--url", url, "--config", config, "--procs", str(p), "--out", str(out)]
            return [*self.prefix, "work", *args]

        if config in self.system.pool_configs:
            return [one(procs)]
        return [one(1) for _ in range(procs)]


def driver(system: System, cache: Path) -> Driver:
    """Make the system's environment if needed (may raise ``EnvUnavailable``)."""
    pythonpath = {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if system.env is None:
        module = f"benchmarks.peers.{system.driver_module}"
        env = {**pythonpath, DESIGN_ENV: system.design} if system.design else pythonpath
        return Driver(system, (sys.executable, "-m", module), env)
    if isinstance(system.env, NodeEnv):
        folder = system.env.ensure(cache)
        node = shutil.which("node") or "node"
        return Driver(
            system, (node, str(PEERS / f"{system.name}.cjs")), {"BENCH_NODE_DIR": str(folder)}
        )
    python = system.env.ensure(cache)
    return Driver(system, (str(python), "-m", f"benchmarks.peers.{system.name}"), pythonpath)


DUETIME = System(
    name="duetime",
    version="0.1.0",
    env=None,
    batch_api="schedule_many",
    settings={
        "default": "Worker(scheduler, handlers) as it comes: concurrency 32, cron ticker on",
        "tuned": "Worker(..., concurrency=200, cron=False): claims take up to 200 tasks per call",
    },
)

PEER_SYSTEMS = (
    System(
        name="arq",
        version="0.28.0",
        env=PythonEnv("arq-0.28.0", ("arq==0.28.0", "redis==5.3.1", "hiredis==3.5.0")),
        batch_api=None,
        settings={
            "default": "Worker(functions, redis_settings) as it comes: poll_delay 0.5 s, "
            "max_jobs 10",
            "tuned": "poll_delay 0.01 s, max_jobs 100",
        },
    ),
    System(
        name="rq",
        version="3.0.0",
        env=PythonEnv("rq-3.0.0", ("rq==3.0.0", "redis==8.1.0", "hiredis==3.5.0")),
        batch_api="enqueue_many (due now); enqueue_at on one pipeline (delayed)",
        settings={
            "default": "Worker (a forked work horse per job), work(with_scheduler=True)",
            "tuned": "SimpleWorker (jobs run in the worker process), with_scheduler=True",
        },
        notes=("RQ's scheduler polls once a second and keeps whole seconds: not a worker option",),
    ),
    System(
        name="celery",
        version="5.7.0",
        env=PythonEnv("celery-5.7.0", ("celery[redis]==5.7.0", "redis==8.1.0", "hiredis==3.5.0")),
        batch_api="kombu Producer.batch() around apply_async",
        settings={
            "default": "celery worker --concurrency P: prefork pool (Celery's default, with "
            "P = CPU count = 2 here)",
            "tuned": "one `celery worker --pool solo --prefetch-multiplier 64 --without-gossip "
            "--without-mingle --without-heartbeat` per process",
        },
        pool_configs=frozenset({"default"}),
        scale_note="delayed (ETA) tasks are all fetched into the worker's memory at once",
        notes=("a delayed (ETA) task is fetched at once and held in the worker's memory",),
    ),
    System(
        name="dramatiq",
        version="2.2.1",
        env=PythonEnv(
            "dramatiq-2.2.1", ("dramatiq[redis]==2.2.1", "redis==8.1.0", "hiredis==3.5.0")
        ),
        batch_api=None,
        settings={
            "default": "dramatiq --processes P as it comes: 8 threads, prefetch 16, idle "
            "wake-up 1 s",
            "tuned": "--threads 4, dramatiq_queue_prefetch=256, dramatiq_worker_timeout=10 ms",
        },
        pool_configs=frozenset({"default", "tuned"}),
        notes=(
            "a worker holds up to 1,000 delayed messages per thread in memory and fetches no "
            "more until they are due: behind that many far-future ones, new delayed messages wait",
        ),
    ),
    System(
        name="saq",
        version="0.26.4",
        env=PythonEnv(
            "saq-0.26.4",
            # saq 0.26.4 imports typing_extensions without declaring it.
            ("saq[redis]==0.26.4", "redis==7.4.1", "hiredis==3.5.0", "typing_extensions"),
        ),
        batch_api=None,
        settings={
            "default": "Worker(queue, functions) as it comes: concurrency 10, schedule timer 1 s",
            "tuned": "concurrency 30 (the schedule timer takes whole seconds: 1 s is the least)",
        },
    ),
    System(
        name="bullmq",
        version="6.7.0",
        env=NodeEnv("bullmq-6.7.0", ("bullmq@6.7.0", "ioredis@5.9.2")),
        batch_api="Queue.addBulk",
        notes=(
            "a worker waits for the next delayed job with a BZPOPMIN timeout, which Redis "
            "resolves at its `hz` (10 by default: 100 ms steps; hz 100 gave p50 5.7 ms here)",
        ),
        settings={
            "default": "new Worker(queue, processor, {connection}) as it comes: concurrency 1",
            "tuned": "concurrency 50",
        },
    ),
)

_DISPATCHERS = {
    "every": "; every worker process also runs the dispatcher",
    "first": "; one worker process (elected through Redis, INCR) also runs the dispatcher",
    "process": "; one worker process (elected through Redis, INCR) also runs the dispatcher",
    "none": "",
}


def design_system(design: Design) -> System:
    """The benchmark's view of one published design."""
    dispatch = _DISPATCHERS[design.dispatcher]
    return System(
        name=design.name,
        version="",
        env=None,
        batch_api=None,
        settings={
            "default": "the design's worker as its command line comes: concurrency "
            f"{DESIGN_DEFAULT_CONCURRENCY}{dispatch}",
            "tuned": f"concurrency {DESIGN_TUNED_CONCURRENCY}{dispatch}",
        },
        notes=(f"design: {design.title}; source: {design.source}",),
        design=design.name,
    )


# Variants (a design at its source's own parameters) are the chaos comparison's; the
# benchmark measures each design once, at its module's defaults.
DESIGN_SYSTEMS = tuple(
    design_system(d) for d in DESIGNS.values() if d.own_processes and d.variant_of is None
)

SYSTEMS: dict[str, System] = {s.name: s for s in (DUETIME, *PEER_SYSTEMS, *DESIGN_SYSTEMS)}
QUICK_SYSTEMS = ("duetime", "arq")
# ``--systems designs`` stands for every published design.
DESIGNS_ALIAS = "designs"


def is_design(name: str) -> bool:
    return SYSTEMS[name].design is not None


def expand(names: Sequence[str]) -> list[str]:
    """``names`` with ``designs`` replaced by every design's name."""
    out: list[str] = []
    for name in names:
        out += [s.name for s in DESIGN_SYSTEMS] if name == DESIGNS_ALIAS else [name]
    return out
