"""``python -m benchmarks sharded``: one namespace over 1, 2 and 3 shards of a local Cluster.

Starts a Redis Cluster of 3 masters (``--replicas`` each) on loopback ports and, for each
shard count, on a flushed Cluster: enqueues tasks due now with ``schedule_many`` (one
process, calls of 1,000, timed), then drains them with worker processes (rated as the main
benchmark rates a drain: :func:`benchmarks.runs.steady_rate`), and reads each master's
script calls before and after each phase (``INFO commandstats``). Writes ``results.json``
and ``report.md`` (:mod:`benchmarks.shard_report`) to ``--out``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
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


FULL = ShardSizes(tasks=50_000, workers=2, drain_cap_s=60.0)
QUICK = ShardSizes(tasks=2_000, workers=1, drain_cap_s=10.0)


def _masters(cluster: LocalCluster) -> list[RedisServer]:
    return cluster.nodes[:MASTERS]


def _read(admins: Sequence[redis.Redis]) -> list[Snapshot]:
    return [snapshot(a) for a in admins]


def _spread(
    before: Sequence[Snapshot], after: Sequence[Snapshot], shards: int, tasks: int
) -> dict[str, Any]:
    """Each master's script calls and CPU between two readings, and how evenly spread."""
    used = [a.minus(b) for a, b in zip(after, before, strict=True)]
    calls = [u.scripts for u in used]
    cpu_s = [u.cpu_s for u in used]
    fractions = shares(calls)
    return {
        "script_calls": calls,
        "shares": fractions,
        "unevenness": unevenness(fractions, shards),
        "script_calls_per_task": sum(calls) / tasks,
        "cpu_s": cpu_s,
        "cpu_us_per_task": sum(cpu_s) * 1e6 / tasks,
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
    """Enqueue and drain ``sizes.tasks`` tasks of one namespace over ``shards`` shards."""
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
        "seconds": seconds,
        "per_s": sizes.tasks / seconds,
        **_spread(before, _read(admins), shards, sizes.tasks),
    }
    queued = sched.stats().due
    sched.close()
    if queued != sizes.tasks:
        raise DriverFailed(f"{shards} shards: {queued} tasks due after enqueuing {sizes.tasks}")

    folder = scratch / f"shards-{shards}"
    folder.mkdir()
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
        "ran": len(starts),
        "finished": len(starts) >= sizes.tasks,
        "per_s": steady_rate(starts),
        **_spread(before, after, shards, max(1, len(starts))),
    }
    return {"shards": shards, "enqueue": enqueue, "drain": drain}


def run(
    counts: Sequence[int], replicas: int, quick: bool, command: str, say: Any = print
) -> dict[str, Any]:
    """Measure each shard count in ``counts``; the results ``shard_report`` writes."""
    sizes = QUICK if quick else FULL
    load = LoadWatch()
    t0 = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="duetime-sharded-"))
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
                for n, shards in enumerate(counts, 1):
                    say(f"step {n}/{len(counts)}: {shards} shard(s), {sizes.tasks:,} tasks")
                    r = measure(cluster, admins, shards, sizes, scratch)
                    results.append(r)
                    say(shard_report.line(r))
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
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "report.md").write_text(shard_report.markdown(results))
