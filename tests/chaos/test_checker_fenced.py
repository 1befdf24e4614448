"""fenced: Redis accepted no state change from a holder whose lease was taken over."""

from __future__ import annotations

import pytest
from history_builder import HistoryBuilder

from duetime.chaos.checker import fenced


def taken_over(hb: HistoryBuilder, *, stale: str, accepted: bool) -> HistoryBuilder:
    """worker-0 claims t (token 1), stalls; worker-1 claims it (token 2) at 5 s; at 8 s
    worker-0 wakes and sends ``stale`` with its old token."""
    hb.lease("claim", "t", 1, sent=1.0, answered=1.01)
    hb.lease("claim", "t", 2, sent=5.0, answered=5.01, process="worker-1")
    hb.lease(stale, "t", 1, sent=8.0, answered=8.01, accepted=accepted)
    return hb


@pytest.mark.parametrize("action", ["ack", "fail", "renew", "release"])
def test_a_stale_holders_change_accepted_fails(hb: HistoryBuilder, action: str) -> None:
    result = fenced.check(taken_over(hb, stale=action, accepted=True).build())
    assert result.verdict == "invalid"
    assert result.details["stale_accepted_list"] == [f"{action} t token 1 by worker-0"]


@pytest.mark.parametrize("action", ["ack", "fail", "renew", "release"])
def test_a_stale_holders_change_refused_passes(hb: HistoryBuilder, action: str) -> None:
    result = fenced.check(taken_over(hb, stale=action, accepted=False).build())
    assert (result.verdict, result.details["stale_refused"]) == ("valid", 1)


def test_a_change_that_crossed_the_newer_claim_in_flight_is_not_blamed(
    hb: HistoryBuilder,
) -> None:
    # Sent at 4.99, before the newer claim was answered at 5.01: Redis may have run it first.
    hb.lease("claim", "t", 1, sent=1.0, answered=1.01)
    hb.lease("claim", "t", 2, sent=5.0, answered=5.01, process="worker-1")
    hb.lease("ack", "t", 1, sent=4.99, answered=5.02)
    assert fenced.check(hb.build()).verdict == "valid"


def test_a_record_set_aside_after_its_claim_is_no_stale_change(hb: HistoryBuilder) -> None:
    # A later claim found t's record unreadable and set it aside: token 0, no lease held.
    hb.lease("claim", "t", 1, sent=1.0, answered=1.01)
    hb.lease("ack", "t", 1, sent=2.0, answered=2.01)
    hb.lease("quarantine", "t", 0, sent=6.0, answered=6.01, reason="unreadable")
    hb.records_lost(2, at=7.0).keys_evicted(3, at=7.5)
    result = fenced.check(hb.build())
    assert (result.verdict, result.details["stale_accepted"]) == ("valid", 0)


def rolled_back(hb: HistoryBuilder, aof: str, claim_at: float) -> HistoryBuilder:
    """As seen in power_loss under everysec: the claim of token 128 is lost with the last
    writes, the token counter rolls back, and the task is claimed again as token 126."""
    hb.redis_config(aof)
    hb.lease("claim", "t", 128, sent=claim_at - 0.01, answered=claim_at)
    hb.fault("power_loss", 2.0, 2.6, struck_at=2.0)
    hb.lease("claim", "t", 126, sent=3.0, answered=3.01, process="worker-1")
    hb.lease("ack", "t", 126, sent=3.2, answered=3.21, process="worker-1")
    return hb


def test_a_newer_claim_a_documented_strike_undid_fences_nothing(hb: HistoryBuilder) -> None:
    result = fenced.check(rolled_back(hb, "everysec", claim_at=1.94).build())
    assert (result.verdict, result.details["stale_accepted"]) == ("valid", 0)


def test_under_always_a_strike_undoes_no_claim(hb: HistoryBuilder) -> None:
    assert fenced.check(rolled_back(hb, "always", claim_at=1.94).build()).verdict == "invalid"


def test_a_claim_older_than_the_documented_window_still_fences(hb: HistoryBuilder) -> None:
    assert fenced.check(rolled_back(hb, "everysec", claim_at=-5.0).build()).verdict == "invalid"


def test_the_current_holders_changes_pass(hb: HistoryBuilder) -> None:
    hb.lease("claim", "t", 1, sent=1.0, answered=1.01)
    hb.lease("renew", "t", 1, sent=2.0, answered=2.01).lease("ack", "t", 1, sent=3, answered=3.1)
    hb.lease("claim", "u", 2, sent=4.0, answered=4.01)  # another task's claim fences nothing
    hb.lease("ack", "t", 1, sent=5.0, answered=5.01)
    assert fenced.check(hb.build()).verdict == "valid"


def test_runs_with_no_lease_changes_recorded_are_unknown(hb: HistoryBuilder) -> None:
    hb.schedule("t", due=0).run("t", 1.0, 1.1)
    assert fenced.check(hb.build()).verdict == "unknown"
