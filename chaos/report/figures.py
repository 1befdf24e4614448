"""The headline figures of a run, pulled from its results (for reports, summaries, matrix)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figures:
    """One row of the comparison table."""

    scenario: str
    config: str
    status: str
    strategy: str
    acknowledged: int | None
    executed: int | None
    lost: int | None
    duplicated_tasks: int | None
    max_per_task: int | None
    early: int | None
    indeterminate: int | None
    recovered: int | None
    lateness_p50: float | None
    lateness_p99: float | None
    lateness_max: float | None
    expectations: dict[str, bool]
    passed: bool
    verdict: str
    run_id: str

    @property
    def failed_expectations(self) -> list[str]:
        return [name for name, held in self.expectations.items() if not held]


def _detail(results: dict[str, Any], checker: str, key: str) -> Any:
    return results.get("checkers", {}).get(checker, {}).get("details", {}).get(key)


def figures(results: dict[str, Any]) -> Figures:
    return Figures(
        scenario=results["scenario"],
        config=results["config"],
        status=results["status"],
        strategy=results.get("strategy", "reference"),
        acknowledged=_detail(results, "lost", "acknowledged"),
        executed=_detail(results, "lost", "executed"),
        lost=_detail(results, "lost", "lost"),
        duplicated_tasks=_detail(results, "duplicated", "duplicated_tasks"),
        max_per_task=_detail(results, "duplicated", "max_executions_per_task"),
        early=_detail(results, "early", "early"),
        indeterminate=_detail(results, "lost", "indeterminate"),
        recovered=_detail(results, "lost", "recovered"),
        lateness_p50=_detail(results, "lateness", "p50_s"),
        lateness_p99=_detail(results, "lateness", "p99_s"),
        lateness_max=_detail(results, "lateness", "max_s"),
        expectations={e["checker"]: bool(e["held"]) for e in results.get("expectations", [])},
        passed=bool(results.get("passed")),
        verdict=verdict_of(results),
        run_id=results["run_id"],
    )


def verdict_of(results: dict[str, Any]) -> str:
    """The run's verdict (see ``checker/verdict.py``); derived for results written before
    runs had one."""
    if "verdict" in results:
        return str(results["verdict"])
    if results.get("status") == "skipped":
        return "skipped"
    if results.get("status") == "completed" and not results.get("expectations"):
        return "measured"
    return "passed" if results.get("passed") else "failed"


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def injected_text(injected: dict[str, int] | None) -> str:
    """``kill_redis x3, pause_worker x1``, or ``none``: never a Python dict."""
    if not injected:
        return "none"
    return ", ".join(f"{name} x{count}" for name, count in injected.items())


def dup_text(duplicated_tasks: int | None, max_per_task: int | None) -> str:
    """Duplicated tasks, with the most runs of one task only when some task ran twice."""
    if not duplicated_tasks:
        return fmt(duplicated_tasks)
    return f"{duplicated_tasks} (max {fmt(max_per_task)})"
