"""Findings the documentation predicts, and violations it does not."""

from __future__ import annotations

import pytest

from duetime.chaos.explore.case import FaultEvent
from duetime.chaos.explore.judge import DOCUMENTED_LOSSES, PROPERTIES, judge, replay_expectations
from duetime.chaos.explore.kinds import KINDS
from duetime.chaos.scenario import STANDARD_EXPECTATIONS

ALL_VALID = {p: "valid" for p in PROPERTIES} | {"lateness": "valid"}


def verdicts(**changed: str) -> dict[str, str]:
    return ALL_VALID | changed


def apart(*kinds: str) -> tuple[FaultEvent, ...]:
    """One fault of each kind, one after the other (never at the same time)."""
    return tuple(FaultEvent(at_ds=10 * i, kind=k, hold_ds=5) for i, k in enumerate(kinds))


def test_the_properties_are_the_standard_expectations() -> None:
    assert set(PROPERTIES) == {
        *("lost", "duplicated", "fenced", "dead_letters", "early", "skew", "cron"),
    }


def test_every_documented_loss_names_known_kinds() -> None:
    known = {k.name for k in KINDS}
    for loss in DOCUMENTED_LOSSES:
        assert loss.kinds <= known


def test_nothing_failed_is_held() -> None:
    assert judge(verdicts(), "everysec", apart("power_loss")).outcome == "held"


@pytest.mark.parametrize(
    ("aof", "kinds"),
    [
        ("everysec", ("power_loss",)),
        ("everysec", ("kill_worker", "power_loss")),
        ("everysec", ("slow_disk_power_loss",)),
        ("everysec", ("slow_disk_kill",)),
        ("no", ("power_loss",)),
        ("off", ("kill_redis",)),
        ("off", ("power_loss",)),
    ],
)
def test_a_documented_loss_is_a_finding(aof: str, kinds: tuple[str, ...]) -> None:
    j = judge(verdicts(lost="invalid"), aof, apart(*kinds))
    assert j.outcome == "finding"
    assert j.failed == ("lost",)


@pytest.mark.parametrize(
    ("aof", "kinds"),
    [
        ("always", ("power_loss",)),  # always fsyncs before it replies
        ("always", ("slow_disk_power_loss",)),
        ("always", ("slow_disk_kill",)),
        ("everysec", ("kill_redis",)),  # the OS survives: the write reached the kernel
        ("no", ("kill_redis",)),
        ("no", ("slow_disk_kill",)),  # no never postpones its writes
        ("everysec", ("kill_worker", "pause_worker", "partition", "network_toxic")),
    ],
)
def test_a_loss_no_documentation_predicts_is_a_violation(aof: str, kinds: tuple[str, ...]) -> None:
    assert judge(verdicts(lost="invalid"), aof, apart(*kinds)).outcome == "violation"


def test_a_kill_during_a_slow_disk_is_documented_only_while_the_disk_is_slow() -> None:
    slow = FaultEvent(at_ds=10, kind="slow_disk", hold_ds=30)
    during = (slow, FaultEvent(at_ds=25, kind="kill_redis", hold_ds=5))
    after = (slow, FaultEvent(at_ds=45, kind="kill_redis", hold_ds=5))
    assert judge(verdicts(lost="invalid"), "everysec", during).outcome == "finding"
    assert judge(verdicts(lost="invalid"), "everysec", after).outcome == "violation"


def test_an_early_start_is_a_violation_even_where_losses_are_expected() -> None:
    j = judge(verdicts(lost="invalid", early="invalid"), "everysec", apart("power_loss"))
    assert j.outcome == "violation"
    assert j.failed == ("lost", "early")


def test_a_checker_that_could_not_decide_is_a_violation() -> None:
    j = judge(verdicts(lost="unknown"), "everysec", apart("power_loss"))
    assert j.outcome == "violation"
    assert "lost unknown" in j.because


def test_cron_slots_lost_with_the_writes_are_part_of_the_finding() -> None:
    j = judge(verdicts(lost="invalid", cron="invalid"), "everysec", apart("power_loss"))
    assert j.outcome == "finding"


def test_a_finding_is_expected_again_by_its_replay_under_its_config_only() -> None:
    j = judge(verdicts(lost="invalid"), "everysec", apart("power_loss"))
    table = replay_expectations(j, "aof=everysec")
    assert [(e.checker, e.verdict) for e in table["aof=everysec"]] == [("lost", "invalid")]
    assert table["*"] == STANDARD_EXPECTATIONS["*"]


def test_a_violation_keeps_the_standard_expectations_so_its_replay_fails() -> None:
    j = judge(verdicts(early="invalid"), "everysec", ())
    assert replay_expectations(j, "aof=everysec") == dict(STANDARD_EXPECTATIONS)
