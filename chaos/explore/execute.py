"""Runs one explored case for real on the testbed and judges what its checkers said."""

from __future__ import annotations

import contextlib
import shutil
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duetime.chaos.report.figures import figures
from duetime.chaos.runner import RunObserver, RunRequest, SilentObserver, run_scenario
from duetime.chaos.system.redis_server import Persistence

from .build import scenario_for
from .case import ExploreCase
from .judge import judge
from .kinds import Registry
from .search import CaseResult

ObserverFactory = Callable[[str], AbstractContextManager[RunObserver]]

EXAMPLE_COMMAND = (
    "(an example of python -m duetime.chaos explore; only shrunk failures get a replay file)"
)


def silent(label: str) -> AbstractContextManager[RunObserver]:
    return contextlib.nullcontext(SilentObserver())


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The figures of a run that the search reports."""
    f = figures(results)
    return {
        "acknowledged": f.acknowledged,
        "executed": f.executed,
        "lost": f.lost,
        "duplicated": f.duplicated_tasks,
        "early": f.early,
        "indeterminate": f.indeterminate,
        "verdicts": {n: r["verdict"] for n, r in results.get("checkers", {}).items()},
        "injected": results["nemeses"]["injected"],
        "redis": results.get("redis", {}).get("version"),
        "warnings": results.get("warnings", []),
    }


def _broken(results: dict[str, Any]) -> str:
    """Why a completed run cannot be judged (a fault not healed, a producer crashed)."""
    nem = results["nemeses"]
    if results["status"] != "completed":
        return f"run {results['status']}: {results.get('error', '')[-2000:]}"
    if nem["heal_failures"]:
        return f"heal failed: {nem['heal_failures'][0][-2000:]}"
    if results["producer_crashes"]:
        return f"producer crashed: {results['producer_crashes'][0][-2000:]}"
    if nem["skipped"]:
        return f"nemeses skipped: {nem['skipped']}"
    return ""


@dataclass(frozen=True)
class RealRuns:
    """``run_case`` for the search: one real run per case under ``persistence``.

    Run folders go under ``out_root``; those of examples where every property
    held are removed unless ``keep_passing`` (the search's record keeps their figures).
    """

    registry: Registry
    persistence: Persistence
    seed: int
    out_root: Path
    observe: ObserverFactory = silent
    keep_passing: bool = False

    def __call__(self, case: ExploreCase) -> CaseResult:
        request = RunRequest(
            scenario=scenario_for(case, self.registry),
            persistence=self.persistence,
            seed=self.seed,
            out_root=self.out_root,
            command=EXAMPLE_COMMAND,
        )
        started = time.monotonic()
        try:
            with self.observe(self.persistence.label) as observer:
                outcome = run_scenario(request, observer)
        except Exception:
            return CaseResult(
                None, duration_s=time.monotonic() - started, error=traceback.format_exc()
            )
        duration = round(time.monotonic() - started, 1)
        results = outcome.results
        broken = _broken(results)
        if broken:
            return CaseResult(None, summary(results), str(outcome.run_dir), duration, broken)
        verdicts = {n: r["verdict"] for n, r in results["checkers"].items()}
        judgement = judge(verdicts, self.persistence.aof, case.faults)
        run_dir = str(outcome.run_dir)
        if not judgement.failing and not self.keep_passing:
            shutil.rmtree(outcome.run_dir, ignore_errors=True)
            run_dir = ""
        return CaseResult(judgement, summary(results), run_dir, duration)
