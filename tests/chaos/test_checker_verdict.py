"""A run's verdict: only a run that tested what it claims, and held, passes."""

from __future__ import annotations

import pytest

from duetime.chaos.checker import Verdict
from duetime.chaos.checker.expectations import Expect, Outcome
from duetime.chaos.checker.verdict import run_verdict


def outcome(expected: Verdict, actual: Verdict | None, checker: str = "lost") -> Outcome:
    return Outcome(Expect(checker, expected, "because"), actual, f"{checker} said {actual}")


def test_every_expectation_held_and_every_fault_struck_passes() -> None:
    assert run_verdict("completed", [outcome("valid", "valid")], judged=True) == ("passed", [])


def test_an_expectation_that_did_not_hold_fails() -> None:
    verdict, reasons = run_verdict(
        "completed", [outcome("valid", "valid"), outcome("valid", "invalid", "early")], judged=True
    )
    assert (verdict, reasons) == ("failed", ["early: early said invalid"])


def test_an_expected_loss_that_did_not_happen_fails_too() -> None:
    assert run_verdict("completed", [outcome("invalid", "valid")], judged=True)[0] == "failed"


@pytest.mark.parametrize("actual", ["unknown", None])
def test_a_checker_that_could_not_decide_makes_the_run_unknown(actual: Verdict | None) -> None:
    verdict, reasons = run_verdict("completed", [outcome("valid", actual)], judged=True)
    assert verdict == "unknown"
    assert reasons[0].startswith("lost could not decide")


def test_a_fault_that_never_struck_makes_the_run_unknown_not_passed() -> None:
    verdict, reasons = run_verdict(
        "completed",
        [outcome("valid", "valid")],
        judged=True,
        untested=["nemesis kill_worker injected no fault: the run did not test it"],
    )
    assert (verdict, reasons) == (
        "unknown",
        ["nemesis kill_worker injected no fault: the run did not test it"],
    )


def test_a_failure_outweighs_what_was_not_tested() -> None:
    verdict, _ = run_verdict(
        "completed", [outcome("valid", "invalid")], judged=True, untested=["nemesis x idle"]
    )
    assert verdict == "failed"


@pytest.mark.parametrize(
    ("status", "verdict"),
    [("skipped", "skipped"), ("crashed", "failed"), ("interrupted", "failed")],
)
def test_a_run_that_did_not_complete_never_passes(status: str, verdict: str) -> None:
    assert run_verdict(status, [], judged=True)[0] == verdict


def test_an_unhealed_fault_makes_the_history_untrustworthy() -> None:
    verdict, reasons = run_verdict(
        "completed", [outcome("valid", "valid")], judged=True, broken=["a fault was not healed"]
    )
    assert (verdict, reasons) == ("failed", ["a fault was not healed"])


def test_a_published_design_is_measured_not_judged() -> None:
    assert run_verdict("completed", [], judged=False)[0] == "measured"
