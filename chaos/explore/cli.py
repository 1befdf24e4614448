"""``python -m duetime.chaos explore``: the search from the shell, one search per configuration.

Exit status: 0 when nothing failed that should hold (a documented finding, such
as lost tasks under ``aof=everysec`` with power loss, is a result, not a
failure), 1 when a property that should hold failed (a violation).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from rich.console import Console

DEFAULT_CONFIG = "aof=everysec"
DEFAULT_EXAMPLES = 30
# Below Hypothesis's own 5-minute limit, so this budget is the one that applies.
DEFAULT_SHRINK_S = 240.0
DEFAULT_SEED = 1
DEFAULT_SPACE = "default"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        action="append",
        help=f"aof=everysec, or aof=everysec,always for one search each with the same "
        f"budget (default {DEFAULT_CONFIG})",
    )
    p.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help="examples (real runs) per configuration until the first failure; shrinking "
        "then has its own budget (default %(default)s)",
    )
    p.add_argument(
        "--shrink-budget",
        type=float,
        default=DEFAULT_SHRINK_S,
        help="seconds of shrinking after the first failure, after which the smallest "
        "failing example so far is reported (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="default %(default)s")
    p.add_argument(
        "--space",
        choices=("default", "ci"),
        default=DEFAULT_SPACE,
        help="the ranges examples are drawn from; ci is smaller (default %(default)s)",
    )
    p.add_argument(
        "--faults", default=None, help="comma-separated fault kinds (default: all available)"
    )
    p.add_argument("--out", default="reports/explore", help="default %(default)s")
    p.add_argument(
        "--runs", default="reports/explore-runs", help="example run folders (%(default)s)"
    )
    p.add_argument(
        "--database",
        default=".hypothesis/explore",
        help="example database folder, '' for none (default %(default)s)",
    )
    p.add_argument(
        "--confirm",
        type=int,
        default=3,
        help="rerun up to N failing examples, smallest first, from their replay file until "
        "one fails again; 0 reruns nothing (default %(default)s)",
    )
    p.add_argument(
        "--keep-passing", action="store_true", help="keep the run folders of passing examples"
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="only regenerate report.md in --out from the searches recorded there",
    )


def command_for(args: argparse.Namespace, config: str) -> str:
    """The command that reruns the search of one configuration with the same budget."""
    parts = ["python", "-m", "duetime.chaos", "explore", "--config", config]
    parts += ["--examples", str(args.examples), "--seed", str(args.seed)]
    if args.shrink_budget != DEFAULT_SHRINK_S:
        parts += ["--shrink-budget", f"{args.shrink_budget:g}"]
    if args.space != DEFAULT_SPACE:
        parts += ["--space", args.space]
    if args.faults:
        parts += ["--faults", args.faults]
    return shlex.join(parts)


def run(args: argparse.Namespace, console: Console) -> int:
    # Imported here so that the other subcommands do not load Hypothesis.
    from duetime.chaos.config import expand_configs, parse_config

    from .kinds import registry
    from .progress import ConsoleProgress, print_result
    from .report import write_report
    from .search import Budget
    from .session import ExploreRequest, explore
    from .strategy import CI_SPACE, SearchSpace

    if args.report_only:
        console.print(f"report: {write_report(Path(args.out))}")
        return 0
    configs = expand_configs(args.config) if args.config else [parse_config(DEFAULT_CONFIG)]
    kinds = tuple(k.strip() for k in args.faults.split(",") if k.strip()) if args.faults else None
    registry(only=kinds)  # unknown kind names fail here, before any run
    status = 0
    for persistence in configs:
        label = persistence.label
        console.rule(f"explore {label}")
        progress = ConsoleProgress(console, label, registry(only=kinds))
        result = explore(
            ExploreRequest(
                persistence=persistence,
                seed=args.seed,
                budget=Budget(examples=args.examples, shrink_s=args.shrink_budget),
                command=command_for(args, label),
                space=CI_SPACE if args.space == "ci" else SearchSpace(),
                kinds=kinds,
                out_dir=Path(args.out),
                runs_dir=Path(args.runs),
                database_dir=Path(args.database) if args.database else None,
                confirm=args.confirm,
                keep_passing=args.keep_passing,
            ),
            observer=progress,
            observe_run=progress.observe_run,
        )
        print_result(console, result.record, str(result.report))
        if result.result == "violation":
            status = 1
    return status
