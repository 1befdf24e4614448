"""``python -m benchmarks sharded``: one namespace over 1, 2 and 3 shards of a local Cluster.

Starts a Redis Cluster of 3 masters (``--replicas`` each) on loopback ports and, for each
shard count, on a flushed Cluster: enqueues tasks due now with ``schedule_many`` (one
process, calls of 1,000, timed), then drains them with worker processes (rated as the main
benchmark rates a drain: :func:`benchmarks.runs.steady_rate`), and reads each master's
script calls before and after each phase (``INFO commandstats``). Writes ``results.json``
and ``report.md`` (:mod:`benchmarks.shard_report`) to ``--out``.
"""

from __future__ import annotations

import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis

from duetime import NewTask
from duetime.chaos.system.redis_cluster import LocalCluster
from duetime.chaos.system.redis_server import RedisServer

from . import shard_report
from .bench import POLL_S, STARTUP_TIMEOUT_S
from .measures.watch import check_alive
from .peers.probe import BATCH, OUT_ENV
from .procs import DriverFailed, started
from .redisinfo import Snapshot, snapshot
from .report import clean
from .runner import LoadWatch, machine
from .runs import RunLog, steady_rate
from .shard_shares import shares, unevenness
from .shard_worker import open_scheduler

MASTERS = 3
SHARD_COUNTS = (1, 2, 3)
NAMESPACE = "bench"


@dataclass(frozen=True)
class ShardSizes:
    tasks: int  # enqueued (timed), then drained (timed)
    workers: int  # worker processes of the drain
    drain_cap_s: float  # a drain stops this long after its first run, done or not
    repeats: int  # measurements of each shard count: rates are their median


FULL = ShardSizes(tasks=50_000, workers=2, drain_cap_s=60.0, repeats=3)
QUICK = ShardSizes(tasks=2_000, workers=1, drain_cap_s=10.0, repeats=1)


def _masters(cluster: LocalCluster) -> list[RedisServer]:
    return cluster.nodes[:MASTERS]


def _read(admins: Sequence[redis.Redis]) -> list[Snapshot]:
    return [snapshot(a) for a in admins]


def _used(before: Sequence[Snapshot], after: Sequence[Snapshot]) -> dict[str, list[Any]]:
    """Each master's script calls and CPU seconds between two readings."""
    used = [a.minus(b) for a, b in zip(after, before, strict=True)]
    return {"script_calls": [u.scripts for u in used], "cpu_s": [u.cpu_s for u in used]}


def summary(phases: Sequence[Mapping[str, Any]], shards: int) -> dict[str, Any]:
    """One phase (enqueue or drain) over its repeats: the median rate, and the spread of
    the script calls and CPU time summed over the repeats."""
    calls = [sum(c) for c in zip(*(p["script_calls"] for p in phases), strict=True)]
    cpu_s = [sum(c) for c in zip(*(p["cpu_s"] for p in phases), strict=True)]
    tasks = sum(p["tasks"] for p in phases)
    fractions = shares(calls)
    return {
        "per_s": statistics.median(p["per_s"] for p in phases),
        "per_s_runs": [p["per_s"] for p in phases],
        "tasks": tasks,
        "finished": all(p["finished"] for p in phases),
        "script_calls": calls,
        "shares": fractions,
        "unevenness": unevenness(fractions, shards),
        "script_calls_per_task": sum(calls) / max(1, tasks),
        "cpu_s": cpu_s,
        "cpu_us_per_task": sum(cpu_s) * 1e6 / max(1, tasks),
        # The rate the masters alone could serve, each with a core of its own: the busiest
        # one's CPU time bounds it (an expectation drawn from a measurement).
        "masters_alone_per_s": tasks / max(cpu_s) if max(cpu_s) > 0 else float("nan"),
    }


def measure(
    cluster: LocalCluster,
    admins: Sequence[redis.Redis],
    shards: int,
    sizes: ShardSizes,
    scratch: Path,
) -> dict[str, Any]:
    """Enqueue and drain ``sizes.tasks`` tasks of one namespace over ``shards`` shards:
    each phase's rate and what each master served."""
    for admin in admins:
        admin.flushall()
    sched = open_scheduler(cluster.url, NAMESPACE, shards)
    tasks = [NewTask(0, {"i": i, "due": 0}, "noop") for i in range(sizes.tasks)]
    sched.stats()  # connects, and reads the namespace's shard count, before the timing
    before = _read(admins)
    started_at = time.perf_counter()
    for start in range(0, len(tasks), BATCH):
        sched.schedule_many(tasks[start : start + BATCH])
    seconds = time.perf_counter() - started_at
    enqueue = {
        "per_s": sizes.tasks / seconds,
        "tasks": sizes.tasks,
        "finished": True,
        **_used(before, _read(admins)),
    }
    queued = sched.stats().due
    sched.close()
    if queued != sizes.tasks:
        raise DriverFailed(f"{shards} shards: {queued} tasks due after enqueuing {sizes.tasks}")

    folder = scratch
    folder.mkdir(parents=True)
    runs = RunLog(folder)
    log = folder / "workers.log"
    cmd = [sys.executable, "-m", "benchmarks.shard_worker", cluster.url, NAMESPACE, str(shards)]
    before = _read(admins)
    launched = time.monotonic()
    first: float | None = None
    with started([cmd] * sizes.workers, {OUT_ENV: str(folder)}, log) as procs:
        while True:
            time.sleep(POLL_S)
            count = runs.poll()
            now = time.monotonic()
            if first is None and count:
                first = now
            if count >= sizes.tasks or (first is not None and now - first > sizes.drain_cap_s):
                break
            if first is None:
                check_alive(procs, log)
                if now - launched > STARTUP_TIMEOUT_S:
                    raise DriverFailed(f"no task ran within {STARTUP_TIMEOUT_S:.0f} s; see {log}")
        after = _read(admins)
        runs.poll()
    starts = [r.start for r in runs.runs]
    drain = {
        "per_s": steady_rate(starts),
        "tasks": len(starts),
        "finished": len(starts) >= sizes.tasks,
        **_used(before, after),
    }
    return {"enqueue": enqueue, "drain": drain}


def run(
    counts: Sequence[int], replicas: int, quick: bool, command: str, say: Any = print
) -> dict[str, Any]:
    """Measure each shard count in ``counts``; the results ``shard_report`` writes."""
    sizes = QUICK if quick else FULL
    load = LoadWatch()
    t0 = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="duetime-sharded-"))
    measured: dict[int, list[dict[str, Any]]] = {}
    results: list[dict[str, Any]] = []
    ok = False
    try:
        with LocalCluster(masters=MASTERS, replicas=replicas) as cluster:
            info = machine(cluster.nodes[0])
            say(
                f"local Cluster: {MASTERS} masters, {replicas} replica(s) each, "
                f"redis-server {info['redis_server']}"
            )
            admins = [m.client() for m in _masters(cluster)]
            try:
                steps = len(counts) * sizes.repeats
                for n, (shards, rep) in enumerate(
                    itertools.product(counts, range(sizes.repeats)), 1
                ):
                    say(f"step {n}/{steps}: {shards} shard(s), {sizes.tasks:,} tasks")
                    one = measure(cluster, admins, shards, sizes, scratch / f"{shards}-{rep}")
                    say(
                        shard_report.line(
                            {"shards": shards, **{k: summary([v], shards) for k, v in one.items()}}
                        )
                    )
                    measured.setdefault(shards, []).append(one)
                results = [
                    {
                        "shards": shards,
                        **{
                            phase: summary([m[phase] for m in runs], shards)
                            for phase in ("enqueue", "drain")
                        },
                    }
                    for shards, runs in measured.items()
                ]
            finally:
                for admin in admins:
                    admin.close()
        ok = True
    finally:
        if ok:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"worker logs and records kept in {scratch}", file=sys.stderr)
    return {
        "command": command,
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "duration_s": time.monotonic() - t0,
        "machine": {**info, **load.stop()},
        "commit": _commit(),
        "masters": MASTERS,
        "replicas": replicas,
        "sizes": asdict(sizes),
        "runs": results,
    }


def _commit() -> str:
    """The checkout's commit, and whether it has changes beyond it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"`{head}`"


def write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(clean(results), indent=2, allow_nan=False)
    (out / "results.json").write_text(text + "\n")
    (out / "report.md").write_text(shard_report.markdown(results))
