"""``python -m benchmarks.durability [--server redis,valkey] [--aof everysec]``: what each
``durability`` costs in schedule rate, on each topology the chaos matrix runs.

For each server, the matrix's topologies with the matrix's settings
(:mod:`duetime.chaos.system.run_config`), all three running at once: ``single`` (one
server; ``none``), ``replicated`` (a :class:`SentinelGroup`: a primary, 2 replicas, 3
Sentinels; ``none``, ``wait``, and ``waitaof`` where the server has WAITAOF) and
``cluster`` (a :class:`LocalCluster`: 3 masters with a replica each, a namespace of 3
shards; the same), every node under ``appendfsync --aof``. Every setting is measured in
``--rounds`` interleaved rounds, so a change in the machine's load falls on each alike;
per round, ``--calls`` ``schedule_task`` calls one at a time (median, p90, max ms, and
their rate), then ``--batches`` ``schedule_many`` calls of ``--batch`` tasks (their rate).
Writes ``results.json`` (read by ``python -m duetime.chaos matrix --rate-costs``) and
``report.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from duetime import NewTask, Scheduler
from duetime.chaos.report.rate_costs import cost_text
from duetime.chaos.system.redis_cluster import LocalCluster
from duetime.chaos.system.redis_server import Persistence, RedisServer
from duetime.chaos.system.run_config import (
    CLUSTER,
    CLUSTER_SHARDS,
    DURABILITIES,
    REPLICATED,
    SERVERS,
    SINGLE,
    TOPOLOGIES,
    RunConfig,
)
from duetime.chaos.system.sentinel_group import SentinelGroup

from .report import clean
from .runner import LoadWatch, machine

DEFAULT_OUT = Path("reports/benchmarks/durability")
AOF_CHOICES = ("no", "everysec", "always")


def _in_sync(replica: RedisServer, timeout_s: float = 60.0) -> None:
    """Until the replica has synced and rewritten its AOF (it confirms fsyncs only then)."""
    deadline = time.monotonic() + timeout_s
    with replica.client(decode_responses=True) as c:
        while True:
            aof = c.info("persistence")
            busy = aof["aof_rewrite_in_progress"] or aof["aof_rewrite_scheduled"]
            if c.info("replication").get("master_link_status") == "up" and not busy:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"the replica did not sync within {timeout_s:g} s")
            time.sleep(0.05)


@contextlib.contextmanager
def topology(config: RunConfig) -> Iterator[tuple[str, RedisServer]]:
    """The running topology of ``config``: its client URL and one node (for versions)."""
    binary = config.binary()
    if config.topology == SINGLE:
        with RedisServer(config.persistence, binary=binary) as server:
            yield server.url, server
    elif config.topology == REPLICATED:
        with SentinelGroup(persistence=config.persistence, binary=binary) as group:
            for replica in group.servers[1:]:
                _in_sync(replica)
            yield group.url, group.servers[0]
    else:
        with LocalCluster(
            masters=CLUSTER_SHARDS, replicas=1, persistence=config.persistence, binary=binary
        ) as cluster:
            for replica in cluster.nodes[CLUSTER_SHARDS:]:
                _in_sync(replica)
            yield f"redis+cluster://{cluster.nodes[0].host_port}/0", cluster.nodes[0]


@dataclass
class Timings:
    """What one setting measured, summed over the rounds."""

    call_ms: list[float] = field(default_factory=list)
    round_rates: list[float] = field(default_factory=list)  # calls/s of each round
    batch_tasks: int = 0
    batch_s: float = 0.0
    batch_size: int = 0
    batches: int = 0

    def summary(self) -> dict[str, Any]:
        ms = sorted(self.call_ms)
        n = len(ms)
        return {
            "calls": {
                "n": n,
                "median_ms": statistics.median(ms),
                "p90_ms": ms[max(int(n * 0.9) - 1, 0)],
                "max_ms": ms[-1],
                "per_s": n / (sum(ms) / 1000),
                "rounds_per_s": self.round_rates,
            },
            "batches": {
                "n": self.batches,
                "size": self.batch_size,
                "per_s": self.batch_tasks / self.batch_s,
            },
        }


def measure_round(
    s: Scheduler, timings: Timings, round_no: int, calls: int, batch: int, batches: int
) -> None:
    """One round of one setting: ``calls`` single calls, then ``batches`` batches."""
    ms = []
    for i in range(calls):
        started = time.perf_counter()
        s.schedule_task(0, {}, task_id=f"r{round_no}-t{i}")
        ms.append((time.perf_counter() - started) * 1000)
    timings.call_ms += ms
    timings.round_rates.append(calls / (sum(ms) / 1000))
    started = time.perf_counter()
    for b in range(batches):
        s.schedule_many(NewTask(0, {}, task_id=f"r{round_no}-b{b}-{i}") for i in range(batch))
    timings.batch_s += time.perf_counter() - started
    timings.batch_tasks += batches * batch
    timings.batch_size = batch
    timings.batches += batches


def measure(settings: list[tuple[str, RunConfig]], sizes: Sizes) -> list[dict[str, Any]]:
    """Every (url, config) setting, in interleaved rounds, so that a change in the
    machine's load while they run falls on each of them alike."""
    schedulers = [
        Scheduler.from_url(
            url,
            namespace=f"d{n}",
            durability=c.producer_durability(),
            shards=CLUSTER_SHARDS if c.topology == CLUSTER else None,
        )
        for n, (url, c) in enumerate(settings)
    ]
    timings = [Timings() for _ in settings]
    try:
        for s in schedulers:
            for i in range(3):
                s.schedule_task(0, {}, task_id=f"warm-up-{i}")
        for r in range(sizes.rounds):
            for s, t in zip(schedulers, timings, strict=True):
                measure_round(s, t, r, sizes.calls, sizes.batch, sizes.batches)
    finally:
        for s in schedulers:
            s.close()
    return [t.summary() for t in timings]


def plan(server: str, aof: str) -> list[RunConfig]:
    """Every topology and durability the matrix could run on ``server``."""
    return [
        config
        for topo in TOPOLOGIES
        for durability in DURABILITIES
        if (config := RunConfig(Persistence(aof=aof), topo, server, durability)).not_applicable(
            TOPOLOGIES
        )
        is None
    ]


@dataclass(frozen=True)
class Sizes:
    rounds: int  # interleaved rounds over a server's settings
    calls: int  # schedule_task calls per setting per round
    batch: int  # tasks per schedule_many call
    batches: int  # schedule_many calls per setting per round


def run(
    servers: list[str], aof: str, sizes: Sizes, say: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    rows = []
    for server in servers:
        configs = plan(server, aof)
        with contextlib.ExitStack() as running:
            settings = []
            versions = {}
            for topo in TOPOLOGIES:
                here = [c for c in configs if c.topology == topo]
                if here:
                    url, node = running.enter_context(topology(here[0]))
                    versions[topo] = ".".join(map(str, node.version))
                    settings += [(url, c) for c in here]
            for (_, config), one in zip(settings, measure(settings, sizes), strict=True):
                row = {
                    "server": server,
                    "server_version": versions[config.topology],
                    "topology": config.topology,
                    "durability": config.durability,
                    "aof": aof,
                    **one,
                }
                say(line(row))
                rows.append(row)
    return rows


def line(row: dict[str, Any]) -> str:
    c, b = row["calls"], row["batches"]
    return (
        f"{row['server']} {row['server_version']} {row['topology']:<10} "
        f"durability {row['durability']:<7}: median {c['median_ms']:.1f} ms, "
        f"p90 {c['p90_ms']:.1f} ms, max {c['max_ms']:.1f} ms, {c['per_s']:,.0f} calls/s; "
        f"batches of {b['size']}: {b['per_s']:,.0f} tasks/s"
    )


def report(results: dict[str, Any]) -> str:
    """The report.md of a results.json."""
    rows = {(r["server"], r["topology"], r["durability"]): r for r in results["rows"]}
    m, load, z = results["machine"], results["load"], results["sizes"]
    lines = [
        "# What each durability setting costs in schedule rate",
        "",
        f"Command: `{results['command']}` ({results['duration_s']:.0f} s, {results['started']})",
        "",
        f"Machine: {m.get('cores', '?')} cores ({m.get('cpu', '')}), Python "
        f"{m.get('python', '')}. Load average (1 min) at the start {load['load_before'][0]:.2f}, "
        f"at the end {load['load_after'][0]:.2f}, highest seen {load['load_max']:.2f}. "
        f"**This machine has {m.get('cores', '?')} cores, shared with other work while this "
        "ran** (the load averages above): read the ratios within this one run (the cost "
        "column), not the absolute rates.",
        "",
        f"Every node under `appendfsync {results['aof']}`. A server's three topologies run "
        f"at once and all its settings are measured in {z['rounds']} interleaved rounds "
        f"(so a change in load falls on each alike); per setting and round, "
        f"{z['calls']} `schedule_task` calls one at a time "
        f"(the rate is calls over their summed time), then {z['batches']} `schedule_many` "
        f"calls of {z['batch']} tasks. `wait` is `Durability(replicas=1)`, `waitaof` "
        "`Durability(fsync=True, replicas=1)`, as the chaos matrix's producers use them. "
        "Topologies as the matrix's: `replicated` is a primary with 2 replicas and 3 "
        "Sentinels, `cluster` 3 masters with a replica each and a namespace of 3 shards.",
        "",
        "| server | topology | durability | median ms | p90 ms | max ms | calls/s "
        "| calls/s, range over rounds | tasks/s in batches | cost against single/none |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, r in rows.items():
        c, b = r["calls"], r["batches"]
        lines.append(
            f"| {r['server']} {r['server_version']} | {r['topology']} | {r['durability']} | "
            f"{c['median_ms']:.1f} | {c['p90_ms']:.1f} | {c['max_ms']:.1f} | "
            f"{c['per_s']:,.0f} | {_range(c.get('rounds_per_s', []))} | {b['per_s']:,.0f} | "
            f"{cost_text(rows, key)} |"
        )
    lines += [
        "",
        "The range over rounds shows how much one setting's rate moved with the machine's "
        "load during this run: a difference between settings smaller than that is noise.",
        "",
        "Settings the matrix cannot run are not measured (WAITAOF needs Redis 7.2+ or "
        "Valkey; `topology=single` has no replica to wait for).",
    ]
    return "\n".join(lines) + "\n"


def _range(rates: list[float]) -> str:
    return f"{min(rates):,.0f} to {max(rates):,.0f}" if rates else "-"


def _servers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in SERVERS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"servers are a comma-separated list of {', '.join(SERVERS)}, not {text!r}"
        )
    return names


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.durability",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--server",
        type=_servers,
        default=["redis", "valkey"],
        help=f"comma-separated, of {', '.join(SERVERS)} (default redis,valkey)",
    )
    p.add_argument("--aof", choices=AOF_CHOICES, default="everysec", help="(default %(default)s)")
    p.add_argument("--rounds", type=_positive, default=5, help="interleaved rounds (%(default)s)")
    p.add_argument(
        "--calls",
        type=_positive,
        default=100,
        help="schedule_task calls per setting per round (%(default)s)",
    )
    p.add_argument(
        "--batch", type=_positive, default=100, help="tasks per schedule_many (%(default)s)"
    )
    p.add_argument(
        "--batches",
        type=_positive,
        default=5,
        help="schedule_many calls per setting per round (%(default)s)",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder (default %(default)s)")
    args = p.parse_args(argv)
    for server in args.server:
        try:
            RunConfig(server=server).binary()
        except Exception as exc:  # RedisNotFound says how to install it
            print(f"error: server={server}: {exc}", file=sys.stderr)
            return 2
    command = shlex.join(["python", "-m", "benchmarks.durability", *(argv or sys.argv[1:])])
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    t0 = time.monotonic()
    load = LoadWatch()
    sizes = Sizes(args.rounds, args.calls, args.batch, args.batches)
    rows = run(args.server, args.aof, sizes)
    with RedisServer(Persistence(aof="off")) as one:
        info = machine(one)
    results = {
        "command": command,
        "started": started,
        "duration_s": time.monotonic() - t0,
        "machine": info,
        "load": load.stop(),
        "aof": args.aof,
        "sizes": asdict(sizes),
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(clean(results), indent=1) + "\n")
    (args.out / "report.md").write_text(report(results))
    print(f"wrote {args.out / 'results.json'} and {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
