from __future__ import annotations

from collections.abc import Sequence

from duetime.chaos.checker import DEFAULT_CHECKERS, Result, run_checker, run_checkers
from duetime.chaos.history.ops import Op


def crashing(history: Sequence[Op]) -> Result:
    raise KeyError("boom")


def test_a_crashing_checker_is_unknown_with_its_traceback() -> None:
    result = run_checker(crashing, [])
    assert result.verdict == "unknown"
    assert "KeyError" in result.details["traceback"]


def test_a_checker_returning_a_bogus_verdict_is_unknown() -> None:
    result = run_checker(lambda h: Result("fine", "?"), [])  # type: ignore[arg-type]
    assert result.verdict == "unknown"


def test_malformed_history_makes_checkers_unknown_not_valid() -> None:
    broken = [Op("invoke", "producer-0", 1.0, "schedule", {"due_at": 1})]  # no task_id
    results = run_checkers(DEFAULT_CHECKERS, broken)
    assert results["lost"].verdict == "unknown"


def test_result_round_trips_through_a_dict() -> None:
    r = Result("invalid", "x", {"n": 1})
    assert Result.from_dict(r.to_dict()) == r
