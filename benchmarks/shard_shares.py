"""Which master served what share of a sharded namespace's script calls, and how evenly."""

from __future__ import annotations

from collections.abc import Sequence

# Issue 15's goal: each master that holds a shard serves its even share of the script
# calls, within 10% of that share.
EVEN_WITHIN = 0.10


def shares(calls: Sequence[int]) -> list[float]:
    """Each master's fraction of the calls (all 0 when there were none)."""
    total = sum(calls)
    return [c / total if total else 0.0 for c in calls]


def unevenness(fractions: Sequence[float], shards: int) -> float:
    """The largest deviation from an even spread, as a fraction of the even share.

    ``shards`` shards over ``len(fractions)`` masters can keep at most ``k = min(shards,
    masters)`` of them busy: an even spread gives ``1/k`` to each of the ``k`` busiest and
    nothing to the others. Two shards on one master of three give ``(1, 0, 0)``: 1.0 (100%)
    away from ``(1/2, 1/2, 0)``.
    """
    if not fractions:
        raise ValueError("no masters")
    k = min(shards, len(fractions))
    even = 1 / k
    ordered = sorted(fractions, reverse=True)
    expected = [even] * k + [0.0] * (len(ordered) - k)
    return max(abs(f - e) for f, e in zip(ordered, expected, strict=True)) / even
