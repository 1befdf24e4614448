"""What ``python -m duetime.chaos explore`` shows: a line per real run, a live line meanwhile."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from rich.console import Console

from duetime.chaos.report.terminal import RichObserver
from duetime.chaos.runner import RunObserver

from .case import ExploreCase
from .kinds import Registry
from .report import verdict_line
from .search import Example, SearchPhase

OUTCOME_STYLE = {"held": "green", "finding": "magenta", "violation": "bold red"}


class ConsoleProgress:
    """A :class:`~duetime.chaos.explore.search.SearchObserver` that prints to ``console``."""

    def __init__(self, console: Console, label: str, registry: Registry) -> None:
        self.console = console
        self.label = label
        self.registry = registry

    def started(self, n: int, phase: SearchPhase, case: ExploreCase) -> None:
        self.console.print(
            f"[cyan]{self.label}[/] run {n} ({phase}): {case.describe(self.registry)}",
            highlight=False,
        )

    def finished(self, example: Example) -> None:
        r, f = example.result, example.result.figures
        if r.judgement is None:
            last = (r.error.strip().splitlines() or ["?"])[-1]
            self.console.print(f"  [yellow]run broke (not shrunk)[/]: {last}", highlight=False)
            return
        outcome = r.judgement.outcome
        failed = f" ({', '.join(r.judgement.failed)})" if r.judgement.failed else ""
        self.console.print(
            f"  [{OUTCOME_STYLE[outcome]}]{outcome}{failed}[/]  acked {f.get('acknowledged')} "
            f"lost {f.get('lost')} dup {f.get('duplicated')} early {f.get('early')}  "
            f"faults {f.get('injected') or 'none'}  {r.duration_s} s",
            highlight=False,
        )

    def observe_run(self, label: str) -> AbstractContextManager[RunObserver]:
        return RichObserver(self.console, label)


def print_result(console: Console, record: dict[str, Any], report: str) -> None:
    """What one configuration's search found, the shrunk schedule and how to rerun it."""
    console.print(f"[bold]{record['config']}[/]: {verdict_line(record)}", highlight=False)
    for kind, why in (record.get("left_out") or {}).items():
        console.print(f"[yellow]left out {kind}[/]: {why}", highlight=False)
    found = record.get("found")
    if found:
        console.print("shrunk fault schedule:")
        for fault in found["faults"] or ["no faults"]:
            console.print(f"  - {fault}", highlight=False)
        if found.get("replay_command"):
            console.print(f"replay: {found['replay_command']}", highlight=False)
        for attempt in found.get("confirm") or []:
            status = "reproduced" if attempt["reproduced"] else "did NOT reproduce"
            console.print(
                f"rerun of run {attempt['n']} from its replay file: {status} "
                f"(lost {attempt['lost']} of {attempt['acknowledged']}; {attempt['run_dir']})",
                highlight=False,
            )
    console.print(f"report: {report}", highlight=False)
