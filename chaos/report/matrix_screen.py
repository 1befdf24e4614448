"""The matrix's last screen: the verdict per setting, then only the runs worth a look.

Every line is at most ``SCREEN_WIDTH`` columns, except a report path or a reproduce
command, which is never cut: a terminal, a pipe and a CI log show the same lines. The
full table is ``matrix.md``'s.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from duetime.chaos.checker.verdict import GOOD, RUN_VERDICTS
from duetime.chaos.designs import REFERENCE
from duetime.chaos.system.run_config import NOT_APPLICABLE

from .figures import figures, verdict_of
from .matrix import applicable, not_applicable_lines
from .matrix_summary import tally

SCREEN_WIDTH = 100
# Verdicts counted only when some run got them.
OPTIONAL = ("measured", NOT_APPLICABLE)
INDENT = "    "
VERDICT_STYLE = {
    "passed": "green",
    "measured": "green",
    "failed": "bold red",
    "unknown": "yellow",
    "skipped": "yellow",
    NOT_APPLICABLE: "dim",
}


@dataclass(frozen=True)
class Line:
    """One line of the screen; ``style`` is rich's, ignored where colour is off."""

    text: str
    style: str = ""


def counts(all_results: Sequence[dict[str, Any]]) -> str:
    """``4 runs: 3 passed, 1 failed, 0 unknown, 0 skipped`` (measured and n/a only when
    there are)."""
    found = [verdict_of(r) for r in all_results]
    shown = [v for v in (*RUN_VERDICTS, NOT_APPLICABLE) if v not in OPTIONAL or v in found]
    noun = "run" if len(found) == 1 else "runs"
    return f"{len(found)} {noun}: " + ", ".join(f"{found.count(v)} {v}" for v in shown)


def _setting(results: dict[str, Any], by_strategy: bool) -> str:
    config = str(results["config"])
    if by_strategy:
        return f"{results.get('strategy', REFERENCE.name)} {config}"
    return config


def wrapped(text: str, indent: str, style: str = "") -> list[Line]:
    """Prose cut into lines of ``SCREEN_WIDTH`` at most, at spaces only: a path or a
    command (no space to break at) stays whole."""
    return [
        Line(part, style)
        for part in textwrap.wrap(
            text,
            SCREEN_WIDTH,
            initial_indent=indent,
            subsequent_indent=indent + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    ]


def _setting_lines(name: str, runs: Sequence[dict[str, Any]]) -> list[Line]:
    t = tally(runs)[str(runs[0]["config"])]
    verdicts = {verdict_of(r) for r in runs}
    worst = next((v for v in ("failed", "unknown", "skipped") if v in verdicts), "passed")
    lines = [Line(f"{name}  {counts(runs)}", VERDICT_STYLE[worst])]
    if t.runs:
        lost = f"lost {t.lost} of {t.acknowledged} acknowledged tasks"
        if t.unexplained:
            lost += f", {t.unexplained} not explained by a strike on Redis"
        dup = f"duplicated {t.duplicated_tasks}" if t.duplicated_tasks else "no duplicate"
        lines += wrapped(f"{lost}; {dup}", INDENT)
        for fault, strike in sorted(t.strikes.items()):
            lines += wrapped(strike.words(fault), INDENT)
    return lines


def _surprising(results: dict[str, Any]) -> bool:
    """A run worth a look: not a plain pass, or it lost acknowledged tasks."""
    f = figures(results)
    return verdict_of(results) not in GOOD or bool(f.lost) or bool(results.get("warnings"))


def _cell_lines(results: dict[str, Any], out: Path) -> list[Line]:
    f = figures(results)
    verdict = verdict_of(results)
    head = f"{verdict.upper()}  {f.scenario} under {f.config}"
    if f.strategy != REFERENCE.name:
        head += f" ({f.strategy})"
    if f.lost:
        head += f": lost {f.lost} of {f.acknowledged}"
        if verdict == "passed":
            head += f" (allowed under {f.config})"
    lines = [Line(head, VERDICT_STYLE.get(verdict, ""))]
    reasons = list(results.get("verdict_reasons") or [])
    if verdict == "skipped":
        reasons = [str(results.get("skip_reason") or "skipped")]
    elif not reasons:
        reasons = list(results.get("warnings") or [])
    for reason in reasons:
        lines += wrapped(reason, INDENT)
    lines.append(Line(f"{INDENT}report: {out / str(results['run_id']) / 'report.md'}"))
    lines.append(Line(f"{INDENT}reproduce: {results['command']}"))
    return lines


def screen_lines(all_results: Sequence[dict[str, Any]], out: Path, matrix_md: Path) -> list[Line]:
    """The whole final screen, as lines."""
    by_strategy = len({r.get("strategy", REFERENCE.name) for r in all_results}) > 1
    groups: dict[str, list[dict[str, Any]]] = {}
    for results in applicable(all_results):
        groups.setdefault(_setting(results, by_strategy), []).append(results)
    lines = [Line(f"Chaos matrix: {counts(all_results)}", "bold"), Line("")]
    lines.append(Line("Per setting:", "bold"))
    for name, runs in groups.items():
        lines += _setting_lines(name, runs)
    worth = [r for r in applicable(all_results) if _surprising(r)]
    lines.append(Line(""))
    if worth:
        lines.append(Line(f"Runs to look at ({len(worth)}):", "bold"))
        for results in worth:
            lines += _cell_lines(results, out)
    elif not applicable(all_results):
        lines.append(Line("No run was made: every combination was not applicable."))
    else:
        lines.append(Line("Every run passed and lost nothing.", "green"))
    na = not_applicable_lines(all_results)
    if na:
        lines += [
            Line(""),
            Line(f"Not applicable ({len(all_results) - len(applicable(all_results))}):", "bold"),
        ]
        for line in na:
            lines += wrapped(line, INDENT, VERDICT_STYLE[NOT_APPLICABLE])
    lines += [Line(""), Line(f"full table: {matrix_md}")]
    return lines


def print_screen(console: Console, lines: Sequence[Line]) -> None:
    """Print each line as it is: rich neither wraps nor highlights it."""
    for line in lines:
        console.print(Text(line.text, style=line.style), soft_wrap=True, highlight=False)
