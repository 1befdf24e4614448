"""``python -m benchmarks run [--quick] [--systems a,b] [--out DIR] [--cache DIR]``.

Measures duetime and its peers against one redis-server it starts itself, prints the table
of ratios (duetime / peer) and writes ``results.json``, ``report.md`` and
``benchmarks.png`` to ``--out``. Exits 1 if a measurement failed (a system that cannot be
installed here, such as BullMQ without node, is skipped with a message instead).

``python -m benchmarks sharded [--quick] [--shards 1,2,3] [--replicas 0|1] [--out DIR]``:
one namespace over 1, 2 and 3 shards of a local Cluster (:mod:`benchmarks.sharded`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import goals, report, sharded, table
from .envs import cache_root
from .runner import Options, run
from .systems import DESIGNS_ALIAS, SYSTEMS


def _shard_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected counts like 1,2,3, not {text!r}") from None
    if not counts or not all(1 <= n <= 16 for n in counts):
        raise argparse.ArgumentTypeError(f"shard counts must be from 1 to 16, not {text!r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="measure duetime and its peers on this machine")
    r.add_argument("--quick", action="store_true", help="small counts, duetime and arq: a check")
    r.add_argument(
        "--systems",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=None,
        help=f"comma-separated, from: {','.join(SYSTEMS)}, or {DESIGNS_ALIAS} for every "
        "published design (default: all, designs included; --quick: duetime,arq)",
    )
    r.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for results.json, report.md, benchmarks.png (default: reports/bench-<time>)",
    )
    r.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="venvs and npm installs (default: $DUETIME_BENCH_CACHE or ~/.cache/duetime-bench)",
    )
    sh = sub.add_parser(
        "sharded",
        help="one namespace over 1, 2 and 3 shards of a local Cluster of 3 masters",
        description="Enqueue and drain rates of one namespace over each shard count, and the "
        "share of script calls each master served (INFO commandstats).",
    )
    sh.add_argument(
        "--quick", action="store_true", help="2,000 tasks and one worker process: a check"
    )
    sh.add_argument(
        "--shards",
        type=_shard_counts,
        default=sharded.SHARD_COUNTS,
        help="comma-separated shard counts, 1 to 16 (default: 1,2,3)",
    )
    sh.add_argument(
        "--replicas", type=int, choices=(0, 1), default=0, help="replicas of each master"
    )
    sh.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for results.json and report.md (default: reports/sharded-<time>)",
    )
    args = p.parse_args(argv)
    command = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])])
    if args.command == "sharded":
        out = args.out or Path("reports") / time.strftime("sharded-%Y%m%d-%H%M%S", time.gmtime())
        found = sharded.run(args.shards, args.replicas, args.quick, command)
        sharded.write(found, out)
        print(f"wrote {out}/results.json, report.md ({found['duration_s']:.0f} s)")
        return 0
    out = args.out or Path("reports") / time.strftime("bench-%Y%m%d-%H%M%S", time.gmtime())
    try:
        results = run(Options(args.quick, args.systems, args.cache or cache_root(), command))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report.write(results, out)
    ok = {n: s for n, s in results["systems"].items() if s["status"] == "ok"}
    print()
    print(table.sections(ok, report.scale_levels(results)))
    if results["goals"]:
        print(goals.markdown(results["goals"]))
    for name, s in results["systems"].items():
        if s["status"] != "ok":
            print(f"{name}: {s['status']}: {s['reason']}")
    m = results["machine"]
    print(
        f"\nmachine: {m['summary']}; load average before {m['load_before'][0]:.2f}, "
        f"highest {m['load_max']:.2f}"
    )
    print(f"wrote {out}/results.json, report.md, benchmarks.png ({results['duration_s']:.0f} s)")
    return 0 if results["ok"] else 1


sys.exit(main())
