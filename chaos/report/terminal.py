"""What the terminal shows: live progress while running, a one-screen summary after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .figures import figures, fmt
from .live import Progress

VERDICT_STYLE = {"valid": "green", "invalid": "red", "unknown": "yellow"}


class RichObserver:
    """A one-line live status: phase, elapsed, counts, active faults."""

    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.label = label
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
        self._live.update(line)


VERDICT_WORDS = {"passed": "bold green", "measured": "bold green", "failed": "bold red"}


def print_summary(console: Console, results: dict[str, Any], run_dir: str) -> None:
    """One screen: expectations, checker verdicts, figures, where the report is."""
    f = figures(results)
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
    console.print(table)
    console.print(
        f"acknowledged {fmt(f.acknowledged)}  executed {fmt(f.executed)}  lost {fmt(f.lost)}  "
        f"indeterminate {fmt(f.indeterminate)} (recovered {fmt(f.recovered)})  "
        f"duplicated {fmt(f.duplicated_tasks)} (max {fmt(f.max_per_task)}/task)  "
        f"early {fmt(f.early)}  lateness p50/p99/max {fmt(f.lateness_p50)}/"
        f"{fmt(f.lateness_p99)}/{fmt(f.lateness_max)} s"
    )
    nem = results["nemeses"]
    console.print(f"faults injected: {nem['injected'] or 'none'}")
    for warning in results.get("warnings", []):
        console.print(f"[yellow]warning: {warning}[/yellow]")
    if results["status"] != "completed":
        console.print(f"[bold red]run {results['status']}[/bold red]")
    style = VERDICT_WORDS.get(f.verdict, "bold yellow")
    console.print(f"[{style}]{f.verdict.upper()}[/]  report: {run_dir}/report.md")
    for reason in results.get("verdict_reasons", []):
        console.print(f"  {reason}")
    console.print(f"reproduce: {results['command']}")
