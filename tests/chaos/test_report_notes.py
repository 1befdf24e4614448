"""report.md's notes under the expectations: what held, what disagrees with the docs."""

from __future__ import annotations

from typing import Any

from duetime.chaos.checker.redis_docs import DISAGREES_WITH_DOCS
from duetime.chaos.report.markdown import render


def results_with(expectation: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    return {
        "scenario": "s",
        "config": "aof=everysec",
        "seed": 1,
        "description": "",
        "command": "(test)",
        "status": status,
        "duration_s": 1.0,
        "redis": {"version": "7.0.15", "binary": "redis-server"},
        "expectations": [expectation],
        "checkers": {},
        "nemeses": {"injected": {}, "errors": [], "heal_failures": []},
        "run_id": "r",
        "started_at": 0.0,
        "passed": True,
    }


def expectation(because: str, expected: str, actual: str) -> dict[str, Any]:
    return {
        "checker": "lost_window",
        "expected": expected,
        "actual": actual,
        "held": expected == actual,
        "because": because,
        "summary": "lost writes acknowledged 3.2 s before the strike",
    }


def test_a_finding_against_the_docs_is_said_once_and_plainly() -> None:
    text = render(
        results_with(expectation(f"{DISAGREES_WITH_DOCS}, which say 2 s", "invalid", "invalid")),
        None,
    )
    assert "this run **disagrees with the Redis docs**, which say 2 s." in text
    assert "documented behaviour" not in text


def test_a_documented_bound_that_did_not_hold_says_the_run_disagrees() -> None:
    text = render(results_with(expectation("Redis docs: at most 2 s", "valid", "invalid")), None)
    assert "expected valid, got invalid" in text
    assert "This run disagrees with the Redis docs." in text


def test_a_skipped_run_says_why() -> None:
    results = results_with(expectation("x", "valid", "valid"), status="skipped")
    results["skip_reason"] = "no fault of this scenario can be injected here (power_loss: no FUSE)"
    assert "**Skipped**: no fault of this scenario can be injected here" in render(results, None)
