"""Failovers seen in a history: which node fell, which was promoted, how long it took, and
when the clients were answered again.

The replication nemeses record each failover on its fault-start (``old_primary``,
``promoted``, ``struck_at``, ``promoted_at``, ``promotion_s``) and, for a partitioned
primary, its fault-end (``demoted_at``). What clients saw comes from their own ops: the
first call Redis accepted after the promotion (after the strike when no replica was
promoted), a schedule or a worker's claim, renew, ack, fail or release, by any client.
During a partition a client that still reaches the old primary may be the one answered:
the figure is when *a* primary answered again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from duetime.chaos.history.ops import LEASE, SCHEDULE, Op

from .facts import fault_windows
from .loss_bounds import REPLICATION_FAULTS, struck_at

# Lease ops that are Redis answering a worker's call (not what a worker noticed).
LEASE_CALLS = frozenset({"claim", "renew", "ack", "fail", "release"})


@dataclass(frozen=True)
class Failover:
    """One replication fault. Times are on the testbed clock; None when not recorded (no
    replica was promoted, or no client was answered after it)."""

    fault_id: str
    fault: str
    struck_at: float
    old_primary: str
    promoted: str | None
    promoted_at: float | None
    promotion_s: float | None
    clients_answered_at: float | None
    demoted_at: float | None
    # The nemesis's evidence: how much of the old primary's replication stream (bytes,
    # measured just before the strike) the promoted node lacked; 0: it had it all.
    missing_bytes: int | None = None

    @property
    def clients_waited_s(self) -> float | None:
        """From the strike until a client was answered again: the outage clients saw."""
        if self.clients_answered_at is None:
            return None
        return self.clients_answered_at - self.struck_at

    def to_dict(self) -> dict[str, Any]:
        return {
            "fault_id": self.fault_id,
            "fault": self.fault,
            "struck_at": round(self.struck_at, 3),
            "old_primary": self.old_primary,
            "promoted": self.promoted,
            "promoted_at": _round(self.promoted_at),
            "promotion_s": _round(self.promotion_s),
            "clients_answered_at": _round(self.clients_answered_at),
            "clients_waited_s": _round(self.clients_waited_s),
            "demoted_at": _round(self.demoted_at),
            "missing_bytes": self.missing_bytes,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def answered_calls(history: Sequence[Op]) -> list[float]:
    """When Redis accepted a client's call, in time order."""
    return sorted(
        op.time
        for op in history
        if op.type == "ok"
        and (op.f == SCHEDULE or (op.f == LEASE and op.value.get("action") in LEASE_CALLS))
    )


def failovers(history: Sequence[Op]) -> list[Failover]:
    """Every replication fault of the history, in time order."""
    answered = answered_calls(history)
    found = []
    for w in fault_windows(history):
        at = struck_at(w)
        if w.fault not in REPLICATION_FAULTS or at is None:
            continue
        promoted_at = _float(w.detail.get("promoted_at"))
        after = promoted_at if promoted_at is not None else at
        promotion_s = _float(w.detail.get("promotion_s"))
        if promotion_s is None and promoted_at is not None:
            promotion_s = promoted_at - at
        found.append(
            Failover(
                fault_id=str(w.detail.get("fault_id", w.fault)),
                fault=w.fault,
                struck_at=at,
                old_primary=str(w.detail.get("old_primary", "?")),
                promoted=w.detail.get("promoted"),
                promoted_at=promoted_at,
                promotion_s=promotion_s,
                clients_answered_at=next((t for t in answered if t > after), None),
                demoted_at=_float(w.healed.get("demoted_at")),
                missing_bytes=_int(w.detail.get("missing_bytes")),
            )
        )
    return found


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
