"""The sharded benchmark's ``report.md``, and its one-line summary of each shard count."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .report import BUSY
from .shard_shares import EVEN_WITHIN

METHOD = """\
One local Redis Cluster (`duetime.chaos.system.redis_cluster.LocalCluster`: the 16,384
slots split evenly over 3 masters, no persistence) serves every measurement; before each
one every master is flushed, so the shard count is stored afresh for the one namespace.

Each shard count is measured `repeats` times, each time on a flushed Cluster; a rate is
the median of the repeats (the lowest and highest in brackets), the spread and the CPU
time are summed over them.

- Enqueue: one producer (the benchmark process) schedules `tasks` tasks due now with
  `schedule_many`, in calls of 1,000; the rate covers those calls only.
- Drain: then `workers` worker processes (`benchmarks/shard_worker.py`: a `Worker` of the
  same namespace and shard count, 200 handler threads, no cron) run them; each no-op
  handler appends its start time to a file. The rate is the handler starts between the
  10th and the 90th percentile divided by the time between them (as in the main
  benchmark), so process start-up is left out.
- Spread: each master's `INFO commandstats` (`cmdstat_eval`, `cmdstat_evalsha`,
  `cmdstat_fcall` and their `_ro` forms) and `used_cpu_user + used_cpu_sys`, read before
  and after each phase. "Off even" is the largest gap between a master's share of the
  script calls and an even spread, as a fraction of the even share: N shards over 3
  masters can keep `k = min(N, 3)` busy, so an even spread is `1/k` each for the `k`
  busiest and nothing for the rest. Issue 15's goal: within 10%.
- "Masters alone" is the tasks divided by the busiest master's CPU time in that phase:
  what the masters could serve were each on a core of its own and the clients not the
  limit. It is drawn from a measurement but is an expectation, not a measured rate.
"""


def _pct(fractions: Sequence[float]) -> str:
    return " / ".join(f"{f:.0%}" for f in fractions)


def _rate(v: float) -> str:
    return f"{v:,.0f}" if math.isfinite(v) else "-"


def _rates(phase: Mapping[str, Any]) -> str:
    """The median rate, and the lowest and highest of the repeats when there were more."""
    runs = phase["per_s_runs"]
    if len(runs) < 2:
        return _rate(phase["per_s"])
    return f"{_rate(phase['per_s'])} ({_rate(min(runs))} to {_rate(max(runs))})"


def _off(phase: Mapping[str, Any], shards: int) -> str:
    off = float(phase["unevenness"])
    if shards == 1:
        return f"{off:.0%} (one slot)"
    return f"{off:.0%} {'met' if off <= EVEN_WITHIN else 'NOT met'}"


def line(run: Mapping[str, Any]) -> str:
    """One shard count's figures, for the console."""
    e, d, n = run["enqueue"], run["drain"], run["shards"]
    return (
        f"{n} shard(s): enqueue {_rate(e['per_s'])}/s, script calls per master "
        f"{_pct(e['shares'])} (off even {e['unevenness']:.0%}); drain {_rate(d['per_s'])}/s"
        f"{'' if d['finished'] else ' (cut before the end)'}, per master {_pct(d['shares'])} "
        f"(off even {d['unevenness']:.0%})"
    )


def _table(runs: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        "| shards | phase | tasks/s, median (range) | script calls per master "
        "| off even (goal 10%) | script calls per 1,000 tasks "
        "| Redis CPU per task (us, all masters) | masters alone (tasks/s, expectation) |",
        "|---:|---|---:|---|---|---:|---:|---:|",
    ]
    for run in runs:
        n = run["shards"]
        for phase in ("enqueue", "drain"):
            p = run[phase]
            cut = "" if p["finished"] else f" ({p['tasks']:,} ran: cut)"
            rows.append(
                f"| {n} | {phase} | {_rates(p)}{cut} | {_pct(p['shares'])} "
                f"| {_off(p, n)} | {p['script_calls_per_task'] * 1000:,.1f} "
                f"| {p['cpu_us_per_task']:.1f} | {_rate(p['masters_alone_per_s'])} |"
            )
    return "\n".join(rows) + "\n"


def _cores_note(results: Mapping[str, Any]) -> str:
    m = results["machine"]
    cores = m["cores"]
    processes = results["masters"] * (1 + results["replicas"])
    return (
        f"**This machine has {cores} cores.** The {processes} redis-servers, the producer "
        f"and {results['sizes']['workers']} worker process(es) all share them, so more "
        f"masters cannot show more throughput here: the rates above measure that the work "
        f"spreads and what it costs, not how sharding scales. Each master's single command "
        f"thread gets the same {cores} cores whichever number of them is busy.\n"
    )


def _expected(runs: Sequence[Mapping[str, Any]]) -> str:
    one = next((r for r in runs if r["shards"] == 1), None)
    bound = ""
    if one is not None:
        d = one["drain"]
        bound = (
            f" In this run one shard's drain cost {d['cpu_us_per_task']:.1f} us of Redis CPU "
            f"per task, all on one master: at that cost about "
            f"{_rate(d['masters_alone_per_s'])} tasks/s is as far as one shard goes, however "
            f"many workers."
        )
    return (
        "## What to expect on a bigger machine (expectation, not measurement)\n\n"
        "A shard is one hash slot, so every script call of it runs on one master's single "
        "command thread: one shard is bounded by one core of Redis." + bound + " With N "
        "shards on N masters, each master on a core of its own, each master serves about "
        "1/N of the calls (the spread above), so the Redis-side bound grows about N-fold, "
        "up to the number of masters (shards beyond that share masters). The clients must "
        "grow with it: a Python producer or worker process is about one core, so the "
        "measured rate rises only with as many producer and worker processes as the masters "
        "can feed. Expected on a machine with a core per master and cores for the clients: "
        "enqueue and drain close to N times the one-shard rate for N up to 3, less what the "
        "extra script calls of N shards cost (the column above: a worker of a "
        "sharded namespace claims from every shard, and a claim of an empty shard is a call "
        'too). The "masters alone" column is that bound for each count, from this run\'s '
        "CPU time" + _bound_ratios(runs) + "\n"
    )


def _bound_ratios(runs: Sequence[Mapping[str, Any]]) -> str:
    """The masters-alone bound of each count as a multiple of one shard's."""
    one = next((r for r in runs if r["shards"] == 1), None)
    if one is None or len(runs) < 2:
        return "."
    parts = []
    for phase in ("enqueue", "drain"):
        base = one[phase]["masters_alone_per_s"]
        ratios = [
            f"{r['shards']} shards {r[phase]['masters_alone_per_s'] / base:.1f}x"
            for r in runs
            if r["shards"] != 1
        ]
        parts.append(f"{phase} {', '.join(ratios)}")
    return f": against one shard's, {'; '.join(parts)}."


def markdown(results: Mapping[str, Any]) -> str:
    """``report.md``: command, machine, the table, the cores note, the expectation, method."""
    m = results["machine"]
    runs = results["runs"]
    parts = [
        "# One namespace over 1, 2 and 3 shards of a Redis Cluster\n",
        f"Command: `{results['command']}` ({results['duration_s']:.0f} s, {results['when']})\n",
        f"Machine: {m['summary']}. Load average (1 min) at the start {m['load_before'][0]:.2f}, "
        f"at the end {m['load_after'][0]:.2f}, highest seen {m['load_max']:.2f}"
        f"{BUSY if m['busy'] else ''}.\n",
        f"Cluster: {results['masters']} masters, {results['replicas']} replica(s) each, on "
        f"this one machine; duetime at commit {results['commit']}. Shares are of the script "
        f"calls the masters served, in the masters' slot order.\n",
        _table(runs),
        _cores_note(results),
        _expected(runs),
        "## How it is measured\n",
        METHOD,
        "\nSizes: `" + json.dumps(results["sizes"]) + "`\n",
    ]
    return "\n".join(parts)
