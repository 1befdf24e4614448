"""Expectations: the verdict each checker should reach under a configuration, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .result import Result, Verdict

ANY_CONFIG = "*"


@dataclass(frozen=True)
class Expect:
    """``checker`` should say ``verdict``; ``because`` cites the documentation it rests on."""

    checker: str
    verdict: Verdict
    because: str


@dataclass(frozen=True)
class Outcome:
    """An expectation met against a run."""

    expect: Expect
    actual: Verdict | None
    summary: str

    @property
    def held(self) -> bool:
        return self.actual == self.expect.verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "checker": self.expect.checker,
            "expected": self.expect.verdict,
            "actual": self.actual,
            "held": self.held,
            "because": self.expect.because,
            "summary": self.summary,
        }


def expectations_for(
    table: Mapping[str, tuple[Expect, ...]], config_label: str
) -> dict[str, Expect]:
    """The ``*`` expectations, overridden per checker by those of each setting in
    ``config_label`` (``aof=no``, then ``maxmemory=allkeys-lru``), then by the whole label's."""
    merged = {e.checker: e for e in table.get(ANY_CONFIG, ())}
    for part in config_label.split(","):
        merged.update({e.checker: e for e in table.get(part, ())})
    merged.update({e.checker: e for e in table.get(config_label, ())})
    return merged


def evaluate(expected: Mapping[str, Expect], results: Mapping[str, Result]) -> list[Outcome]:
    outcomes = []
    for name, expect in expected.items():
        result = results.get(name)
        outcomes.append(
            Outcome(
                expect,
                result.verdict if result else None,
                result.summary if result else "checker did not run",
            )
        )
    return outcomes
