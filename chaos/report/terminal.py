"""What the terminal shows: live progress while running, a one-screen summary after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .figures import dup_text, figures, fmt, injected_text
from .live import Progress
from .matrix_progress import MatrixProgress
from .matrix_screen import SCREEN_WIDTH, wrapped

VERDICT_STYLE = {"valid": "green", "invalid": "red", "unknown": "yellow"}


class RichObserver:
    """A live status: phase, elapsed, counts, active faults, and under a matrix its
    overall progress. Rich shows it on a terminal only: a pipe gets no live display."""

    def __init__(self, console: Console, label: str, overall: MatrixProgress | None = None) -> None:
        self.console = console
        self.label = label
        self.overall = overall
        self.phase_name = "start"
        self.expected_s: float | None = None
        self._live = Live(Text(""), console=console, refresh_per_second=4, transient=True)

    def __enter__(self) -> RichObserver:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def phase(self, name: str, expected_s: float | None) -> None:
        self.phase_name, self.expected_s = name, expected_s

    def update(self, elapsed_s: float, progress: Progress, faults: Sequence[str]) -> None:
        expected = f"/~{self.expected_s:.0f}s" if self.expected_s else ""
        line = Text.assemble(
            (f"{self.label} ", "bold"),
            (f"[{self.phase_name}{expected}] ", "cyan"),
            f"{elapsed_s:5.1f}s  scheduled {progress.acked}/{progress.invoked} "
            f"(indeterminate {progress.indeterminate})  executed {progress.executed}  "
            f"pending {progress.acked_pending}  runs {progress.executions}  ",
            (f"faults: {', '.join(faults)}" if faults else "", "red"),
        )
        if self.overall is None:
            self._live.update(line)
        else:
            self._live.update(Group(Text(self.overall.line(), style="dim"), line))


VERDICT_WORDS = {"passed": "bold green", "measured": "bold green", "failed": "bold red"}


def print_line(console: Console, text: str | Text) -> None:
    """A line rich never wraps: a path or a command is copied whole from a pipe too."""
    console.print(text, soft_wrap=True, highlight=False)


def print_summary(console: Console, results: dict[str, Any], run_dir: str) -> None:
    """One screen, at most ``SCREEN_WIDTH`` wide: expectations, checker verdicts, figures,
    where the report is. A skipped run says why, and nothing else."""
    f = figures(results)
    style = VERDICT_WORDS.get(f.verdict, "bold yellow")
    if f.verdict != "skipped":
        _print_checkers(console, results)
        print_line(
            console,
            f"acknowledged {fmt(f.acknowledged)}  executed {fmt(f.executed)}  "
            f"lost {fmt(f.lost)}  indeterminate {fmt(f.indeterminate)} "
            f"(recovered {fmt(f.recovered)})",
        )
        print_line(
            console,
            f"duplicated {dup_text(f.duplicated_tasks, f.max_per_task)}  early {fmt(f.early)}  "
            f"lateness p50/p99/max {fmt(f.lateness_p50)}/{fmt(f.lateness_p99)}/"
            f"{fmt(f.lateness_max)} s",
        )
        print_line(console, f"faults injected: {injected_text(results['nemeses']['injected'])}")
        reasons = set(results.get("verdict_reasons", []))
        for warning in [w for w in results.get("warnings", []) if w not in reasons]:
            _print_prose(console, f"warning: {warning}", "", "yellow")
        if results["status"] != "completed":
            print_line(console, Text(f"run {results['status']}", style="bold red"))
    print_line(console, Text.assemble((f.verdict.upper(), style), f"  report: {run_dir}/report.md"))
    if f.verdict == "skipped":
        _print_prose(console, results.get("skip_reason") or "skipped", "  ")
    for reason in results.get("verdict_reasons", []):
        _print_prose(console, reason, "  ")
    print_line(console, f"reproduce: {results['command']}")


def _print_prose(console: Console, text: str, indent: str, style: str = "") -> None:
    for line in wrapped(text, indent, style):
        print_line(console, Text(line.text, style=line.style))


def _print_checkers(console: Console, results: dict[str, Any]) -> None:
    title = f"{results['scenario']} · {results['config']} · seed {results['seed']}"
    table = Table(title=title, show_lines=False)
    for col in ("checker", "verdict", "expected", "summary"):
        table.add_column(col, overflow="fold")
    expected = {e["checker"]: e for e in results.get("expectations", [])}
    for name, r in results.get("checkers", {}).items():
        e = expected.get(name)
        exp = "-" if e is None else ("held" if e["held"] else f"NOT HELD ({e['expected']})")
        table.add_row(
            name,
            Text(r["verdict"], style=VERDICT_STYLE.get(r["verdict"], "")),
            Text(exp, style="green" if e is None or e["held"] else "bold red"),
            r["summary"],
        )
    console.print(table, width=min(console.width, SCREEN_WIDTH))
