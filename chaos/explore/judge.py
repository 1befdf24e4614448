"""Which failed property is a finding the documentation predicts, and which is a violation.

The properties are the standard expectations of every scenario (nothing lost,
duplicates bounded, nothing early, cron slots once). Under some configurations a
fault makes Redis forget writes it acknowledged, as its documentation says: then
``lost`` (and what rests on the same writes: duplicate bounds and cron slots)
failing is the expected result of the search, a *finding*, not a failure.
Anything else failing is a *violation*.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from duetime.chaos.checker.expectations import ANY_CONFIG, Expect
from duetime.chaos.scenario import STANDARD_EXPECTATIONS

from .case import FaultEvent

# The standard expectations, but with the raw ``lost``: the search weighs losses against
# its own table of documented ones (below) to tell findings from violations.
PROPERTIES: tuple[str, ...] = tuple(
    "lost" if e.checker == "unexplained_loss" else e.checker
    for e in STANDARD_EXPECTATIONS[ANY_CONFIG]
)
# What Redis forgetting acknowledged writes can break: the task itself, the attempt
# count that bounds its duplicates, the slot records of cron schedules.
DATA_LOSS_CHECKERS = frozenset({"lost", "duplicated", "cron"})

Outcome = Literal["held", "finding", "violation"]


@dataclass(frozen=True)
class DocumentedLoss:
    """Under an ``aof`` mode in ``aof``, a run with a fault of every kind in ``kinds``
    (at the same time, if ``together``) may lose acknowledged writes; ``because`` cites
    where that is documented."""

    aof: frozenset[str]
    kinds: frozenset[str]
    because: str
    together: bool = False

    def applies(self, aof: str, faults: Sequence[FaultEvent]) -> bool:
        if aof not in self.aof:
            return False
        by_kind = [[f for f in faults if f.kind == kind] for kind in sorted(self.kinds)]
        if not all(by_kind):
            return False
        if not self.together:
            return True
        return any(
            max(f.at_ds for f in combo) < min(f.at_ds + f.hold_ds for f in combo)
            for combo in itertools.product(*by_kind)
        )


RESTART_EMPTY = (
    "Redis persistence docs: with AOF off and no RDB snapshot, a restarted redis-server "
    "starts empty, so acknowledged tasks still pending are lost"
)
POWER_LOSS = (
    "Redis persistence docs: on power loss, appendfsync everysec loses about the last second "
    "of acknowledged writes (up to 2 s on a slow disk), no what the kernel had not written "
    "back, AOF off everything; only always loses nothing"
)
POSTPONED_WRITES = (
    "FACTS.md, from reading Redis's aof.c: under everysec, while a slow fsync runs, Redis "
    "postpones writing its AOF for up to 2 s but still replies, so a SIGKILL then loses "
    "acknowledged writes"
)
REDIS_CRASHES = ("kill_redis", "power_loss", "slow_disk_kill", "slow_disk_power_loss")
POWER_CUTS = ("power_loss", "slow_disk_power_loss")

DOCUMENTED_LOSSES: tuple[DocumentedLoss, ...] = (
    *(DocumentedLoss(frozenset({"off"}), frozenset({k}), RESTART_EMPTY) for k in REDIS_CRASHES),
    *(
        DocumentedLoss(frozenset({"no", "everysec"}), frozenset({k}), POWER_LOSS)
        for k in POWER_CUTS
    ),
    DocumentedLoss(frozenset({"everysec"}), frozenset({"slow_disk_kill"}), POSTPONED_WRITES),
    DocumentedLoss(
        frozenset({"everysec"}),
        frozenset({"slow_disk", "kill_redis"}),
        POSTPONED_WRITES,
        together=True,
    ),
)


@dataclass(frozen=True)
class Judgement:
    """What one run says: the properties that failed, and whether that was predicted."""

    outcome: Outcome
    failed: tuple[str, ...]
    because: str

    @property
    def failing(self) -> bool:
        return bool(self.failed)


def documented_loss(aof: str, faults: Sequence[FaultEvent]) -> DocumentedLoss | None:
    """The documented loss that applies to a run under ``aof`` with ``faults``."""
    return next((loss for loss in DOCUMENTED_LOSSES if loss.applies(aof, faults)), None)


def judge(verdicts: Mapping[str, str], aof: str, faults: Sequence[FaultEvent]) -> Judgement:
    """Judge the checker ``verdicts`` of a run under ``aof`` that had ``faults``."""
    failed = tuple(p for p in PROPERTIES if verdicts.get(p) != "valid")
    if not failed:
        return Judgement("held", (), "every property held")
    loss = documented_loss(aof, faults)
    predicted = all(verdicts.get(p) == "invalid" and p in DATA_LOSS_CHECKERS for p in failed)
    if loss is not None and predicted:
        return Judgement("finding", failed, loss.because)
    what = ", ".join(f"{p} {verdicts.get(p, 'missing')}" for p in failed)
    return Judgement("violation", failed, f"no documented fault explains it: {what}")


def replay_expectations(judgement: Judgement, config: str) -> dict[str, tuple[Expect, ...]]:
    """The expectations of a replay file: the standard ones, and under ``config`` the
    finding itself, so a rerun passes when it reproduces. A violation keeps the
    standard expectations: its replay fails until the bug is fixed."""
    table = dict(STANDARD_EXPECTATIONS)
    if judgement.outcome == "finding":
        table[config] = tuple(Expect(c, "invalid", judgement.because) for c in judgement.failed)
    return table
