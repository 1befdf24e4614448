"""The schedule-rate cost of each topology and durability, from the durability benchmark.

``python -m benchmarks.durability`` writes a ``results.json`` whose ``rows`` give, per
server, topology and durability, the rate of one ``schedule_task`` at a time
(``calls.per_s``) and of ``schedule_many`` batches (``batches.per_s``). A cost is read
against the same server's ``single``/``none`` row of the same file (one run, one load
on the machine): ``"41% of single/none (1,240 calls/s); batches: 80% of single/none
(27,300 tasks/s)"``; without that row, the rates alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BENCHMARK_COMMAND = "python -m benchmarks.durability"
NOT_MEASURED = f"not measured (run {BENCHMARK_COMMAND})"
BASELINE = ("single", "none")

# (server, topology, durability)
Setting = tuple[str, str, str]


class RateCostsError(ValueError):
    """The file is not a durability benchmark's ``results.json``."""


def load_rate_costs(path: Path) -> dict[Setting, dict[str, Any]]:
    """The rows of a durability benchmark's ``results.json``, by setting."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RateCostsError(f"--rate-costs: no such file: {path}") from None
    except (OSError, ValueError) as exc:
        raise RateCostsError(f"--rate-costs: {path} is not readable JSON ({exc})") from None
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise RateCostsError(
            f"--rate-costs: {path} has no 'rows': not a results.json of {BENCHMARK_COMMAND}"
        )
    found: dict[Setting, dict[str, Any]] = {}
    for row in rows:
        try:
            key = (str(row["server"]), str(row["topology"]), str(row["durability"]))
            float(row["calls"]["per_s"])
        except (KeyError, TypeError, ValueError):
            raise RateCostsError(
                f"--rate-costs: {path} has a row without server, topology, durability and "
                f"calls.per_s: {row!r}"
            ) from None
        found[key] = row
    return found


def _rate(row: Mapping[str, Any], kind: str) -> float | None:
    value = (row.get(kind) or {}).get("per_s")
    return None if value is None else float(value)


def cost_text(rows: Mapping[Setting, Mapping[str, Any]], setting: Setting) -> str:
    """One cell: this setting's rate as a share of the same server's single/none."""
    row = rows.get(setting)
    if row is None:
        return NOT_MEASURED
    base = rows.get((setting[0], *BASELINE))
    parts = []
    for kind, unit, prefix in (("calls", "calls/s", ""), ("batches", "tasks/s", "batches: ")):
        rate = _rate(row, kind)
        if rate is None:
            continue
        base_rate = None if base is None else _rate(base, kind)
        if base_rate:
            parts.append(f"{prefix}{_share(rate / base_rate)} of single/none ({rate:,.0f} {unit})")
        else:
            parts.append(f"{prefix}{rate:,.0f} {unit}")
    return "; ".join(parts)


def _share(ratio: float) -> str:
    """A share as a percentage; below 10% with a decimal, so a cost never reads 0%."""
    return f"{ratio:.1%}" if ratio < 0.1 else f"{ratio:.0%}"
