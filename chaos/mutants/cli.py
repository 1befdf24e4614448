"""``python -m duetime.chaos mutants``: run each catalogued bug and the unmodified baseline.

Exit status: 0 when every mutant was caught by the checker the catalogue names and
every baseline run passed; 1 otherwise (or when a patch no longer applies); 2 on bad
usage (an unknown mutant name).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from rich.console import Console

from .catalogue import PatchDoesNotApply, UnknownMutant, select
from .report import headline, print_table, run_label, write_report
from .run import RunRecord
from .scratch import repository_root
from .suite import MutantOutcome, baseline_plan, run_baseline, try_mutant

DEFAULT_BASELINE_SEEDS = 3
DEFAULT_OUT = Path("reports") / "mutants"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    p.add_argument("--only", default=None, help="comma-separated mutant names (default: all)")
    p.add_argument(
        "--baseline-seeds",
        type=_non_negative,
        default=DEFAULT_BASELINE_SEEDS,
        help="run each scenario the mutants use, unmodified, for seeds 1..N "
        "(default %(default)s; 0 skips the baseline)",
    )
    p.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="folder for mutants.md, mutants.json and the run folders (default %(default)s)",
    )
    p.add_argument("--list", action="store_true", help="list the catalogue and exit")


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the selected mutants and the baseline; write and print the report."""
    try:
        mutants = select(args.only)
    except UnknownMutant as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        return 2
    if args.list:
        for m in mutants:
            console.print(f"[bold]{m.name}[/bold] ({m.scenario} s{m.seed}, caught by "
                          f"{' or '.join(m.catchers)})\n    {m.bug}")  # fmt: skip
        return 0
    root = repository_root()
    try:
        for m in mutants:
            m.patched_files(root)  # every patch applies, before any run starts
    except PatchDoesNotApply as exc:
        Console(stderr=True).print(f"[red]error: the catalogue is stale:[/red] {exc}")
        return 1
    out = Path(args.out)
    runs = out / "runs" / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    command = shlex.join(["python", "-m", "duetime.chaos", *sys.argv[1:]])

    outcomes: list[MutantOutcome] = []
    for n, mutant in enumerate(mutants, start=1):
        console.rule(f"mutant {n}/{len(mutants)}: {mutant.name}")
        outcome = try_mutant(root, mutant, runs)
        evidence = outcome.evidence
        console.print(
            f"{'[green]caught[/green]' if outcome.caught else '[red]MISSED[/red]'} "
            f"({outcome.run.verdict}, {outcome.run.duration_s} s)"
            + (f" by {evidence.source}: {evidence.summary}" if evidence else "")
        )
        outcomes.append(outcome)

    plan = baseline_plan(mutants, args.baseline_seeds)

    def show(record: RunRecord) -> None:
        mark = "[green]passed[/green]" if record.passed else f"[red]{record.verdict}[/red]"
        reasons = f": {'; '.join(record.reasons)}" if record.reasons else ""
        console.print(f"baseline {run_label(record)}: {mark} ({record.duration_s} s){reasons}")

    if plan:
        console.rule(f"baseline: {len(plan)} runs of the unmodified code")
    baseline = run_baseline(root, plan, runs, show)

    md = write_report(out, outcomes, baseline, command)
    print_table(console, outcomes)
    console.print(headline(outcomes, baseline))
    console.print(f"report: {md}")
    ok = all(o.caught for o in outcomes) and all(r.passed for r in baseline)
    return 0 if ok else 1
