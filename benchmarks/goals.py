"""Issue 7's goals for duetime, checked against one run: met, or the gap."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Results = Mapping[str, Any]

# "Flat" from the smallest to the largest backlog: Redis CPU per task and drain rate within
# this factor, and lateness p99 within the factor or FLAT_SLACK_MS.
FLAT_FACTOR = 1.25
FLAT_SLACK_MS = 1.0
# Defaults count as the fast settings when they drain at least this fraction of tuned.
DEFAULTS_FRACTION = 0.9


@dataclass(frozen=True)
class Goal:
    text: str
    target: float
    at_least: bool
    measure: Callable[[Results], float | None]
    unit: str = ""


def _get(r: Results, *keys: str) -> float | None:
    node: Any = r
    for k in keys:
        if not isinstance(node, Mapping) or k not in node or node[k] is None:
            return None
        node = node[k]
    return float(node)


def _scale_ends(r: Results) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    rows = sorted(r.get("scale") or [], key=lambda row: row["pending"])
    if len(rows) < 2:
        return None
    return rows[0], rows[-1]


def _cpu_growth(r: Results) -> float | None:
    ends = _scale_ends(r)
    if ends is None:
        return None
    small = _get(ends[0], "drain", "redis_cpu_us_per_task")
    large = _get(ends[1], "drain", "redis_cpu_us_per_task")
    return None if small is None or large is None or small == 0 else large / small


def _rate_kept(r: Results) -> float | None:
    ends = _scale_ends(r)
    if ends is None:
        return None
    small, large = _get(ends[0], "drain", "per_s"), _get(ends[1], "drain", "per_s")
    return None if small is None or large is None or small == 0 else large / small


def _lateness_growth_ms(r: Results) -> float | None:
    """How much p99 lateness grew beyond what FLAT_FACTOR and FLAT_SLACK_MS allow (<= 0: flat)."""
    ends = _scale_ends(r)
    if ends is None:
        return None
    small, large = _get(ends[0], "lateness", "p99_ms"), _get(ends[1], "lateness", "p99_ms")
    if small is None or large is None:
        return None
    return large - max(small * FLAT_FACTOR, small + FLAT_SLACK_MS)


def _defaults_fraction(r: Results) -> float | None:
    fractions = []
    for procs in ("1", "2"):
        d, t = (
            _get(r, "drain", "default", procs, "per_s"),
            _get(r, "drain", "tuned", procs, "per_s"),
        )
        if d is None or t is None or t == 0:
            return None
        fractions.append(d / t)
    return min(fractions)


GOALS = (
    Goal(
        "drain, 1 worker process, defaults",
        10_000,
        True,
        lambda r: _get(r, "drain", "default", "1", "per_s"),
        "tasks/s",
    ),
    Goal(
        "drain, 2 worker processes, defaults",
        15_000,
        True,
        lambda r: _get(r, "drain", "default", "2", "per_s"),
        "tasks/s",
    ),
    Goal(
        "lateness p99, 1 worker process, defaults",
        2.0,
        False,
        lambda r: _get(r, "precision", "default", "p99_ms"),
        "ms",
    ),
    Goal(
        "tasks run early (defaults)",
        0,
        False,
        lambda r: _get(r, "precision", "default", "early"),
        "tasks",
    ),
    Goal(
        "tasks missing (defaults)",
        0,
        False,
        lambda r: _get(r, "precision", "default", "missing"),
        "tasks",
    ),
    Goal(
        "enqueue, one call per task, one client",
        10_000,
        True,
        lambda r: _get(r, "enqueue", "single_per_s"),
        "tasks/s",
    ),
    Goal(
        "enqueue through the batch API",
        150_000,
        True,
        lambda r: _get(r, "enqueue", "batch_per_s"),
        "tasks/s",
    ),
    Goal(
        "claim cost flat: Redis CPU per task, largest / smallest backlog",
        FLAT_FACTOR,
        False,
        _cpu_growth,
        "x",
    ),
    Goal(
        "claim cost flat: drain rate, largest / smallest backlog",
        1 / FLAT_FACTOR,
        True,
        _rate_kept,
        "x",
    ),
    Goal(
        f"lateness flat: p99 growth beyond {FLAT_FACTOR}x or +{FLAT_SLACK_MS:g} ms",
        0.0,
        False,
        _lateness_growth_ms,
        "ms",
    ),
    Goal(
        "Redis memory per pending task beyond payload (delayed)",
        150,
        False,
        lambda r: _get(r, "memory", "delayed", "overhead_bytes"),
        "bytes",
    ),
    Goal(
        "defaults are the fast settings: drain at defaults / tuned (worst of 1 and 2 processes)",
        DEFAULTS_FRACTION,
        True,
        _defaults_fraction,
        "x",
    ),
)


def check(duetime: Results) -> list[dict[str, Any]]:
    """Each goal with the measured value, whether it is met, and the gap if not."""
    out = []
    for g in GOALS:
        value = g.measure(duetime)
        if value is None or math.isnan(value):
            out.append(
                {
                    "goal": g.text,
                    "target": g.target,
                    "unit": g.unit,
                    "measured": None,
                    "met": None,
                    "gap": None,
                    "at_least": g.at_least,
                }
            )
            continue
        met = value >= g.target if g.at_least else value <= g.target
        gap = 0.0 if met else abs(value - g.target)
        out.append(
            {
                "goal": g.text,
                "target": g.target,
                "unit": g.unit,
                "measured": value,
                "met": met,
                "gap": gap,
                "at_least": g.at_least,
            }
        )
    return out


def markdown(checked: list[dict[str, Any]]) -> str:
    """The goals as a Markdown table: target, measured, met or the gap."""
    lines = ["| goal | target | measured | met? |", "|---|---:|---:|---|"]
    for c in checked:
        sign = ">=" if c["at_least"] else "<="
        target = f"{sign} {_num(c['target'])} {c['unit']}".strip()
        if c["measured"] is None:
            lines.append(f"| {c['goal']} | {target} | not measured | - |")
            continue
        verdict = "yes" if c["met"] else f"no: gap {_num(c['gap'])} {c['unit']}".rstrip()
        lines.append(f"| {c['goal']} | {target} | {_num(c['measured'])} {c['unit']} | {verdict} |")
    return "\n".join(lines) + "\n"


def _num(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"
