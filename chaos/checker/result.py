"""Checker results: a three-valued verdict with details, and the safe way to run a checker."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from duetime.chaos.history.ops import Op

Verdict = Literal["valid", "invalid", "unknown"]
VERDICTS: tuple[Verdict, ...] = ("valid", "invalid", "unknown")

Checker = Callable[[Sequence[Op]], "Result"]

# Loss windows kept per run; id lists are kept whole (report.md shows the first few).
MAX_LISTED = 50


@dataclass(frozen=True)
class Result:
    """What a checker concluded: ``verdict``, a one-line ``summary``, JSON-able ``details``."""

    verdict: Verdict
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "summary": self.summary, "details": dict(self.details)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Result:
        return cls(verdict=raw["verdict"], summary=raw["summary"], details=raw.get("details", {}))


def run_checker(checker: Checker, history: Sequence[Op]) -> Result:
    """Run one checker; a crash yields ``unknown`` with the traceback, never a pass."""
    try:
        result = checker(history)
    except Exception as exc:
        return Result(
            "unknown",
            f"checker crashed: {exc!r}",
            {"traceback": traceback.format_exc()},
        )
    if result.verdict not in VERDICTS:
        return Result("unknown", f"checker returned verdict {result.verdict!r}")
    return result


def run_checkers(checkers: Mapping[str, Checker], history: Sequence[Op]) -> dict[str, Result]:
    """Run every checker by name on the same history."""
    return {name: run_checker(checker, history) for name, checker in checkers.items()}


def listed(items: Sequence[Any] | set[Any]) -> list[Any]:
    """A sorted list for details, whole: results.json keeps every id; report.md cuts."""
    return sorted(items)
