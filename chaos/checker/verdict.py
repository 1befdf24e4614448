"""A run's verdict: passed, failed, unknown, skipped, or measured (a design, not judged).

A run passes only when it tested what it claims to: every expectation held, every
nemesis it configured struck at least once, and the testbed itself worked (no heal
failure, no producer crash). A checker that could not decide (``unknown``), or a fault
that never happened, makes the run ``unknown``: it tested nothing, so it proves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from .expectations import Outcome

RunVerdict = Literal["passed", "failed", "unknown", "skipped", "measured"]
RUN_VERDICTS: tuple[RunVerdict, ...] = ("passed", "failed", "unknown", "skipped", "measured")
# Verdicts a matrix accepts without --allow-skips.
GOOD: frozenset[str] = frozenset({"passed", "measured"})


def run_verdict(
    status: str,
    outcomes: Sequence[Outcome],
    *,
    judged: bool,
    untested: Sequence[str] = (),
    broken: Sequence[str] = (),
) -> tuple[RunVerdict, list[str]]:
    """The verdict of a run and the reasons behind it.

    ``status`` is how the run ended (completed, skipped, crashed, interrupted);
    ``untested`` names what the run meant to test and did not (a nemesis that never
    struck); ``broken`` what makes its history untrustworthy (a fault not healed).
    """
    if status == "skipped":
        return "skipped", []
    if status != "completed":
        return "failed", [f"the run {status}"]
    if broken:
        return "failed", list(broken)
    if not judged:
        return "measured", list(untested)
    failed = [o for o in outcomes if o.actual in ("valid", "invalid") and not o.held]
    if failed:
        return "failed", [f"{o.expect.checker}: {o.summary}" for o in failed]
    undecided = [o for o in outcomes if not o.held]
    reasons = [f"{o.expect.checker} could not decide: {o.summary}" for o in undecided]
    reasons += list(untested)
    if reasons:
        return "unknown", reasons
    return "passed", []
