"""The fault vocabulary: what is drawn, what is left out and why, one-shot nemeses."""

from __future__ import annotations

import random

import pytest

from duetime.chaos.explore.judge import POWER_CUTS
from duetime.chaos.explore.kinds import KINDS, ONCE_EVERY_S, FaultKind, registry
from duetime.chaos.nemesis import KillRedis, KillWorker


def test_a_kind_whose_nemesis_is_missing_is_left_out_with_the_reason() -> None:
    missing = FaultKind("teleport", "TeleportRedis", lanes=("redis",), hold_ds=(1, 2))
    reg = registry((*KINDS[:1], missing))
    assert reg.names == ("kill_worker",)
    assert "duetime.chaos.nemesis has no TeleportRedis" in reg.left_out["teleport"]


def test_a_kind_that_cannot_run_here_is_left_out_with_the_reason() -> None:
    unusable = FaultKind(
        "kill_redis", "KillRedis", lanes=("redis",), hold_ds=(1, 2), available=lambda: "no disk"
    )
    reg = registry((KINDS[0], unusable))
    assert reg.names == ("kill_worker",)
    assert reg.left_out == {"kill_redis": "no disk"}


def test_only_restricts_and_unknown_names_are_refused() -> None:
    assert registry(only=("kill_redis",)).names == ("kill_redis",)
    with pytest.raises(ValueError, match="unknown fault kinds: nope"):
        registry(only=("kill_redis", "nope"))


def test_every_process_nemesis_is_in_the_vocabulary() -> None:
    reg = registry()
    for name in ("kill_worker", "pause_worker", "kill_cron", "kill_redis"):
        assert name in reg.names, reg.left_out


def test_a_built_fault_is_injected_once_at_its_time_and_held_its_time() -> None:
    kind = next(k for k in KINDS if k.name == "kill_redis")
    nemesis = kind.build(at_s=3.2, hold_s=0.7, variant=0)
    assert isinstance(nemesis, KillRedis)
    rng = random.Random(1)
    assert nemesis.schedule.times(rng, until=ONCE_EVERY_S - 1) == [3.2]
    assert nemesis.schedule.hold(rng) == 0.7


def test_variants_become_constructor_arguments() -> None:
    skew = next(k for k in KINDS if k.name == "clock_skew")
    assert skew.build(1.0, 1.0, variant=1).shifts_s == (-30.0,)  # type: ignore[attr-defined]
    worker = next(k for k in KINDS if k.name == "kill_worker")
    assert isinstance(worker.build(1.0, 1.0, 0), KillWorker)


def test_bad_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="hold_ds"):
        FaultKind("x", "KillRedis", lanes=("x",), hold_ds=(0, 2))
    with pytest.raises(ValueError, match="variant"):
        FaultKind("x", "KillRedis", lanes=("x",), hold_ds=(1, 2), variants=())


def test_kinds_that_cut_the_power_inject_under_their_own_name() -> None:
    # The report counts runs with a power cut by the nemesis names the runner records.
    for name in POWER_CUTS:
        kind = next(k for k in KINDS if k.name == name)
        if kind.nemesis_class() is not None:
            assert kind.build(1.0, 1.0, 0).name == name
