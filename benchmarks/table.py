"""The comparison table: every measure, every system, and the ratio duetime / peer.

A ratio above 1 means duetime's number is the larger: better for rates, worse for
lateness, memory and cost. Counts (early, missing) get no ratio.

The published designs of the chaos testbed (systems whose results name a ``design``) are
not peers: :func:`sections` gives them a table of their own, duetime / design.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Results = Mapping[str, Any]  # one system's results
Getter = Callable[[Results], float | None]

BASE = "duetime"


@dataclass(frozen=True)
class Row:
    """One measure: label, unit, how to read it from a system's results, and its kind."""

    label: str
    unit: str
    get: Getter
    kind: str = "rate"  # rate | ms | bytes | count | us | calls


def _path(*keys: str) -> Getter:
    def get(r: Results) -> float | None:
        node: Any = r
        for k in keys:
            if not isinstance(node, Mapping) or k not in node:
                return None
            node = node[k]
        return None if node is None else float(node)

    return get


def _scale(level: int, *keys: str) -> Getter:
    def get(r: Results) -> float | None:
        for row in r.get("scale") or []:
            if row.get("pending") == level:
                return _path(*keys)(row)
        return None

    return get


def rows(scale_levels: Sequence[int] = ()) -> list[Row]:
    """The table's rows; scale rows for each backlog in ``scale_levels``."""
    out = [
        Row("enqueue, one call per task", "tasks/s", _path("enqueue", "single_per_s")),
        Row("enqueue, batch API", "tasks/s", _path("enqueue", "batch_per_s")),
    ]
    for config in ("default", "tuned"):
        for procs in ("1", "2"):
            label = f"drain, {procs} worker process{'es' if procs == '2' else ''}, {config}"
            out.append(Row(label, "tasks/s", _path("drain", config, procs, "per_s")))
    out += [
        Row(
            "Redis CPU per task (drain, 1 process, default)",
            "us",
            _path("drain", "default", "1", "redis_cpu_us_per_task"),
            "us",
        ),
        Row(
            "Redis commands per task, incl. inside scripts (same drain)",
            "",
            _path("drain", "default", "1", "redis_commands_per_task"),
            "calls",
        ),
    ]
    for config in ("default", "tuned"):
        for stat in ("p50", "p99", "max"):
            out.append(
                Row(
                    f"lateness {stat}, 1 process, {config}",
                    "ms",
                    _path("precision", config, f"{stat}_ms"),
                    "ms",
                )
            )
        for what in ("early", "missing"):
            out.append(
                Row(
                    f"{what}, 1 process, {config}",
                    "tasks",
                    _path("precision", config, what),
                    "count",
                )
            )
    out += [
        Row(
            "Redis memory per pending task beyond payload, delayed",
            "bytes",
            _path("memory", "delayed", "overhead_bytes"),
            "bytes",
        ),
        Row(
            "Redis memory per pending task beyond payload, due now",
            "bytes",
            _path("memory", "due_now", "overhead_bytes"),
            "bytes",
        ),
    ]
    for level in scale_levels:
        at = f"{level:,} pending (tuned, 1 process)"
        out += [
            Row(f"drain with {at}", "tasks/s", _scale(level, "drain", "per_s")),
            Row(
                f"Redis CPU per task with {at}",
                "us",
                _scale(level, "drain", "redis_cpu_us_per_task"),
                "us",
            ),
            Row(f"lateness p99 with {at}", "ms", _scale(level, "lateness", "p99_ms"), "ms"),
            Row(f"missing with {at}", "tasks", _scale(level, "lateness", "missing"), "count"),
        ]
    return out


def fmt(value: float | None, kind: str) -> str:
    """``value`` for a cell: thousands separated, two decimals below 10 for small units."""
    if value is None or math.isnan(value):
        return "-"
    if kind == "count":
        return f"{value:.0f}"
    if kind in ("ms", "us", "calls"):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:,.0f}"
    return f"{value:,.0f}"


def ratio(base: float | None, peer: float | None) -> float | None:
    """duetime / peer, or None where either is missing or negative, or the peer's is 0.

    (A negative lateness, a design that runs tasks early, has no meaningful ratio.)
    """
    if base is None or peer is None or math.isnan(base) or math.isnan(peer):
        return None
    if peer <= 0 or base < 0:
        return None
    return base / peer


def fmt_ratio(r: float | None) -> str:
    """``12x``, ``2.3x``, ``0.012x``: two significant digits below 1."""
    if r is None:
        return ""
    if r >= 10:
        return f"{r:,.0f}x"
    if r >= 1:
        return f"{r:.1f}x"
    return f"{r:.2g}x"


def cell(row: Row, base: Results | None, peer: Results, is_base: bool) -> str:
    """A peer's value with the ratio duetime / peer in brackets; duetime's value alone."""
    value = row.get(peer)
    text = fmt(value, row.kind)
    if is_base or base is None or row.kind == "count" or value is None:
        return text
    r = fmt_ratio(ratio(row.get(base), value))
    return f"{text} ({r})" if r else text


def markdown(systems: Mapping[str, Results], scale_levels: Sequence[int] = ()) -> str:
    """The table in Markdown: a column per measured system, duetime first."""
    names = [n for n in systems if n == BASE] + [n for n in systems if n != BASE]
    base = systems.get(BASE)
    head = ["measure", "unit", *(systems[n].get("label", n) for n in names)]
    lines = [
        "| " + " | ".join(head) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for row in rows(scale_levels):
        cells = [cell(row, base, systems[n], n == BASE) for n in names]
        if all(c == "-" for c in cells):
            continue
        lines.append(f"| {row.label} | {row.unit} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


DESIGNS_HEADING = "## The published designs: what each costs"
DESIGNS_INTRO = (
    "The designs users copy from blog posts and answers, as the chaos testbed runs them "
    "(`chaos/designs/`), measured the same way. They are not peers to beat: this is what "
    "each design costs, next to what the chaos matrix shows it guarantees. Ratios are "
    "duetime / design. A drain counts handler runs: where a design runs a task twice, "
    "both runs count."
)


def split(systems: Mapping[str, Results]) -> tuple[dict[str, Results], dict[str, Results]]:
    """(duetime and its peers, the published designs), each in the order given."""
    peers = {n: r for n, r in systems.items() if not r.get("design")}
    designs = {n: r for n, r in systems.items() if r.get("design")}
    return peers, designs


def designs_markdown(systems: Mapping[str, Results], scale_levels: Sequence[int] = ()) -> str:
    """The designs' section (heading, what it is, the table with duetime first); "" if none."""
    _, designs = split(systems)
    if not designs:
        return ""
    base = {BASE: systems[BASE]} if BASE in systems else {}
    table = markdown({**base, **designs}, scale_levels)
    return f"{DESIGNS_HEADING}\n\n{DESIGNS_INTRO}\n\n{table}"


def sections(systems: Mapping[str, Results], scale_levels: Sequence[int] = ()) -> str:
    """The peers' table, then the designs' section if any design was measured.

    With designs and no peer measured, the peers' table (duetime alone) is left out.
    """
    peers, designs = split(systems)
    parts = []
    if not designs or set(peers) - {BASE}:
        parts.append(markdown(peers, scale_levels))
    if designs:
        parts.append(designs_markdown(systems, scale_levels))
    return "\n".join(parts)
