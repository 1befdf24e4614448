"""The table a person acts on: per topology and durability setting, what the runs lost,
repeated and delayed, and what the setting costs in schedule rate.

Built from the runs' results (``results.json``: their ``config`` label and checker
details), summed over every scenario, server and persistence setting run under that
topology and durability (and per server when the runs used several). The schedule-rate
cost is not a chaos figure: it comes from the benchmark run with the same settings
(``python -m benchmarks.durability``, read by :mod:`.rate_costs`), passed in by the
caller; a cell with no figure says how to measure it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .rate_costs import NOT_MEASURED, Setting, cost_text

TOPOLOGIES = ("single", "replicated", "cluster")
DURABILITIES = ("none", "wait", "waitaof")
HEADERS = (
    "topology",
    "durability",
    "runs",
    "acknowledged",
    "acknowledged lost",
    "lost, unexplained",
    "repeats (tasks, most runs of one)",
    "worst lateness s",
    "failovers (worst promotion / client wait s)",
    "most bytes a promoted node lacked",
    "schedule-rate cost",
)


def config_parts(label: str) -> dict[str, str]:
    """A run's config label (``topology=replicated,durability=wait,aof=everysec``) as its
    settings; those a label leaves out have their defaults (``single``, ``none``)."""
    parts = dict(part.split("=", 1) for part in label.split(",") if "=" in part)
    return {"topology": "single", "server": "redis", "durability": "none", **parts}


@dataclass
class DurabilityRow:
    """Every run of one topology under one durability setting (on one server, or on
    every server: ``server`` is then empty)."""

    topology: str
    durability: str
    server: str = ""
    runs: int = 0
    acknowledged: int = 0
    lost: int = 0
    unexplained: int = 0
    repeats: int = 0
    repeated_tasks: int = 0
    most_runs: int = 0
    worst_lateness_s: float = 0.0
    failovers: int = 0
    worst_promotion_s: float | None = None
    worst_client_wait_s: float | None = None
    most_missing_bytes: int | None = None

    def add(self, results: Mapping[str, Any]) -> None:
        checkers = results.get("checkers", {})
        if not checkers:
            return  # skipped or not applicable: nothing measured
        self.runs += 1
        lost = checkers.get("lost", {}).get("details", {})
        self.acknowledged += int(lost.get("acknowledged", 0))
        self.lost += int(lost.get("lost", 0))
        self.unexplained += int(lost.get("lost_unexplained", 0))
        dup = checkers.get("duplicated", {}).get("details", {})
        self.repeats += int(dup.get("duplicate_executions", 0))
        self.repeated_tasks += int(dup.get("duplicated_tasks", 0))
        self.most_runs = max(self.most_runs, int(dup.get("max_executions_per_task", 0)))
        late = checkers.get("lateness", {}).get("details", {})
        self.worst_lateness_s = max(self.worst_lateness_s, float(late.get("max_s") or 0.0))
        for f in lost.get("failovers", []):
            self.failovers += 1
            self.worst_promotion_s = _worst(self.worst_promotion_s, f.get("promotion_s"))
            self.worst_client_wait_s = _worst(self.worst_client_wait_s, f.get("clients_waited_s"))
            missing = f.get("missing_bytes")
            if missing is not None:
                self.most_missing_bytes = max(int(missing), self.most_missing_bytes or 0)

    def cells(self, rate_cost: str) -> list[str]:
        repeats = str(self.repeats)
        if self.repeats:
            repeats += f" ({self.repeated_tasks} tasks, max {self.most_runs})"
        failovers = str(self.failovers)
        if self.failovers:
            failovers += f" ({_s(self.worst_promotion_s)} / {_s(self.worst_client_wait_s)})"
        return [
            self.topology,
            self.durability,
            *([self.server] if self.server else []),
            str(self.runs),
            str(self.acknowledged),
            str(self.lost),
            str(self.unexplained),
            repeats,
            f"{self.worst_lateness_s:.3f}",
            failovers,
            "-" if self.most_missing_bytes is None else str(self.most_missing_bytes),
            rate_cost,
        ]


def _worst(current: float | None, value: Any) -> float | None:
    if value is None:
        return current
    return float(value) if current is None else max(current, float(value))


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def durability_rows(
    all_results: Iterable[Mapping[str, Any]], per_server: bool = False
) -> list[DurabilityRow]:
    """One row per topology and durability (and server, if ``per_server``) that some run
    measured, in a fixed order."""
    rows: dict[tuple[str, str, str], DurabilityRow] = {}
    for results in all_results:
        parts = config_parts(str(results.get("config", "")))
        key = (parts["topology"], parts["durability"], parts["server"] if per_server else "")
        rows.setdefault(key, DurabilityRow(*key)).add(results)
    return sorted((r for r in rows.values() if r.runs), key=_order)


def servers_of(all_results: Iterable[Mapping[str, Any]]) -> list[str]:
    """The servers the measured runs ran on, in the order first seen."""
    found: dict[str, None] = {}
    for results in all_results:
        if results.get("checkers"):
            found[config_parts(str(results.get("config", "")))["server"]] = None
    return list(found)


def _order(row: DurabilityRow) -> tuple[int, str, int, str, str]:
    def rank(value: str, known: tuple[str, ...]) -> int:
        return known.index(value) if value in known else len(known)

    return (
        rank(row.topology, TOPOLOGIES),
        row.topology,
        rank(row.durability, DURABILITIES),
        row.durability,
        row.server,
    )


def durability_table(
    all_results: Iterable[Mapping[str, Any]],
    rate_costs: Mapping[Setting, Mapping[str, Any]] | None = None,
) -> list[str]:
    """The markdown lines of the table: a row per topology and durability, per server
    when the runs used several. ``rate_costs``: the durability benchmark's rows
    (:func:`.rate_costs.load_rate_costs`); without them the cost column says how to
    measure it."""
    measured = list(all_results)
    servers = servers_of(measured)
    per_server = len(servers) > 1
    headers = list(HEADERS)
    if per_server:
        headers.insert(2, "server")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in durability_rows(measured, per_server):
        server = row.server or (servers[0] if servers else "")
        cost = NOT_MEASURED
        if rate_costs is not None:
            cost = cost_text(rate_costs, (server, row.topology, row.durability))
        lines.append("| " + " | ".join(row.cells(cost)) + " |")
    return lines


def wants_table(all_results: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the matrix opens with the table: some run was not on ``topology=single``."""
    return any(config_parts(str(r.get("config", "")))["topology"] != "single" for r in all_results)
