"""The suite's report: a markdown table of mutants and baseline runs, and its figures as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .run import RunRecord
from .suite import MutantOutcome

MARKDOWN_FILE = "mutants.md"
JSON_FILE = "mutants.json"


def run_label(record: RunRecord) -> str:
    """How the run was started, short: scenario, seed and extra arguments."""
    return " ".join([record.scenario, "--quick", "--seed", str(record.seed), *record.args])


def others(outcome: MutantOutcome) -> str:
    """The run's other reasons for not passing, beside the expected catcher's."""
    evidence = outcome.evidence
    return ", ".join(
        sorted({s.source for s in outcome.run.signals if evidence is None or s != evidence})
    )


def headline(outcomes: Sequence[MutantOutcome], baseline: Sequence[RunRecord]) -> str:
    """One line: how many mutants were caught, how many baseline runs passed."""
    caught = f"{sum(o.caught for o in outcomes)} of {len(outcomes)} mutants caught"
    if not baseline:
        return f"{caught}; no baseline runs"
    passed = sum(r.passed for r in baseline)
    seeds = max(r.seed for r in baseline)
    scenarios = len({r.scenario for r in baseline})
    return (
        f"{caught}; unmodified code: {passed} of {len(baseline)} baseline runs passed "
        f"({scenarios} scenarios x seeds 1..{seeds})"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(outcomes: Sequence[MutantOutcome], baseline: Sequence[RunRecord], command: str) -> str:
    """The report as markdown: the headline, the mutants, then the baseline runs."""
    lines = [
        "# Mutants: proof that the checkers can fail",
        "",
        "Each mutant is a realistic bug, applied to a scratch copy of the repository and run",
        "with the quick scenario that must catch it (`chaos/mutants/catalogue.py`). A mutant",
        "counts as caught only if the run did not pass *and* the checker the catalogue names",
        "is among the reasons. The baseline runs the same scenarios on the unmodified code.",
        "",
        f"Command: `{command}`",
        "",
        f"**{headline(outcomes, baseline)}.**",
        "",
        "| mutant | bug | run | result | caught by | figure | also failing |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        evidence = o.evidence
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    f"`{o.mutant.name}`",
                    o.mutant.bug,
                    f"`{run_label(o.run)}`",
                    "caught" if o.caught else f"**missed** ({o.run.verdict})",
                    evidence.source if evidence else f"expected {', '.join(o.mutant.catchers)}",
                    evidence.summary if evidence else "; ".join(o.run.reasons) or "passed",
                    others(o),
                )
            )
            + " |"
        )
    lines += [
        "",
        "## Baseline (unmodified code)",
        "",
        "| run | verdict | reasons |",
        "|---|---|---|",
    ]
    for r in baseline:
        reasons = "; ".join(r.reasons) or "-"
        lines.append(f"| `{run_label(r)}` | {r.verdict} | {_cell(reasons)} |")
    return "\n".join(lines) + "\n"


def _record(r: RunRecord) -> dict[str, Any]:
    return {
        "scenario": r.scenario,
        "seed": r.seed,
        "args": list(r.args),
        "verdict": r.verdict,
        "reasons": list(r.reasons),
        "signals": [{"source": s.source, "summary": s.summary} for s in r.signals],
        "duration_s": r.duration_s,
    }


def figures(
    outcomes: Sequence[MutantOutcome], baseline: Sequence[RunRecord], command: str
) -> dict[str, Any]:
    """The report's figures, for machines."""
    return {
        "command": command,
        "headline": headline(outcomes, baseline),
        "mutants": [
            {
                "name": o.mutant.name,
                "bug": o.mutant.bug,
                "expected_catchers": list(o.mutant.catchers),
                "caught": o.caught,
                "caught_by": o.evidence.source if o.evidence else None,
                "figure": o.evidence.summary if o.evidence else None,
                "run": _record(o.run),
            }
            for o in outcomes
        ],
        "baseline": [_record(r) for r in baseline],
    }


def write_report(
    out: Path, outcomes: Sequence[MutantOutcome], baseline: Sequence[RunRecord], command: str
) -> Path:
    """Write ``mutants.md`` and ``mutants.json`` into ``out``; return the markdown's path."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / MARKDOWN_FILE
    md.write_text(markdown(outcomes, baseline, command), encoding="utf-8")
    data = figures(outcomes, baseline, command)
    (out / JSON_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return md


def print_table(console: Console, outcomes: Sequence[MutantOutcome]) -> None:
    """The mutants on the screen: caught or missed, by what, with what figure."""
    table = Table(title="mutants")
    for column in ("mutant", "scenario", "result", "caught by", "figure"):
        table.add_column(column)
    for o in outcomes:
        evidence = o.evidence
        table.add_row(
            o.mutant.name,
            f"{o.mutant.scenario} s{o.mutant.seed}",
            "[green]caught[/green]" if o.caught else f"[red]missed ({o.run.verdict})[/red]",
            evidence.source if evidence else f"expected {', '.join(o.mutant.catchers)}",
            evidence.summary if evidence else "; ".join(o.run.reasons) or "passed",
        )
    console.print(table)
