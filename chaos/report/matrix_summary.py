"""The matrix's summary per configuration, generated from the runs' results.

For each configuration: acknowledged and lost tasks, each kind of strike on Redis
with the window of acknowledged writes it took (from the lost checker's
``loss_windows``), duplicates and lateness, then in plain words what the setting
guaranteed on this evidence, and where that differs from what Redis documents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from duetime.chaos.checker.redis_docs import DOCUMENTED, DOCUMENTED_WINDOW_S

from .figures import dup_text

# Process kills: the OS survives, so only what never reached write(2) can go.
KILLS = ("kill_redis", "slow_disk_kill")
STRIKE_WORDS = {
    "kill_redis": "process kill",
    "slow_disk_kill": "process kill on a slow disk",
    "power_loss": "power loss",
    "slow_disk_power_loss": "power loss on a slow disk",
}


def strike_words(fault: str) -> str:
    return STRIKE_WORDS.get(fault, fault.replace("_", " "))


@dataclass
class StrikeTally:
    """Every strike of one kind under one configuration."""

    strikes: int = 0
    losing: int = 0
    everything: int = 0
    tested: int = 0
    at_risk: int = 0
    lost: int = 0
    oldest_lost_s: float | None = None

    def add(self, window: dict[str, Any]) -> None:
        self.strikes += 1
        self.at_risk += int(window["at_risk"])
        self.lost += int(window["lost"])
        self.tested += bool(window["at_risk"])
        self.losing += bool(window["lost"])
        self.everything += bool(window["everything_at_risk_lost"])
        oldest = window.get("oldest_lost_ack_s")
        if oldest is not None:
            self.oldest_lost_s = max(oldest, self.oldest_lost_s or 0.0)

    def words(self, fault: str) -> str:
        name = f"{strike_words(fault)} x{self.strikes}"
        if not self.losing:
            return f"{name}: nothing lost of {self.at_risk} acknowledged tasks at risk"
        oldest = f"acknowledged up to {self.oldest_lost_s:.2f} s before"
        if self.everything == self.tested:
            return f"{name}: every task at risk lost ({self.lost}), {oldest}"
        return (
            f"{name}: {self.losing} of {self.strikes} strikes lost tasks ({self.lost} of "
            f"{self.at_risk} at risk), {oldest}"
        )


@dataclass
class ConfigTally:
    """Every run of one configuration."""

    runs: int = 0
    acknowledged: int = 0
    lost: int = 0
    unexplained: int = 0
    duplicated_tasks: int = 0
    max_runs_per_task: int = 0
    lateness_p99_s: float = 0.0
    lateness_max_s: float = 0.0
    strikes: dict[str, StrikeTally] = field(default_factory=lambda: defaultdict(StrikeTally))

    def add(self, results: dict[str, Any]) -> None:
        checkers = results.get("checkers", {})
        if not checkers:
            return
        self.runs += 1
        lost = checkers.get("lost", {}).get("details", {})
        self.acknowledged += int(lost.get("acknowledged", 0))
        self.lost += int(lost.get("lost", 0))
        self.unexplained += int(lost.get("lost_unexplained", 0))
        for window in lost.get("loss_windows", []):
            self.strikes[window["fault"]].add(window)
        dup = checkers.get("duplicated", {}).get("details", {})
        self.duplicated_tasks += int(dup.get("duplicated_tasks", 0))
        self.max_runs_per_task = max(
            self.max_runs_per_task, int(dup.get("max_executions_per_task", 0))
        )
        late = checkers.get("lateness", {}).get("details", {})
        self.lateness_p99_s = max(self.lateness_p99_s, float(late.get("p99_s") or 0.0))
        self.lateness_max_s = max(self.lateness_max_s, float(late.get("max_s") or 0.0))


def tally(all_results: Iterable[dict[str, Any]]) -> dict[str, ConfigTally]:
    by_config: dict[str, ConfigTally] = defaultdict(ConfigTally)
    for results in all_results:
        by_config[str(results["config"])].add(results)
    return dict(by_config)


def guarantee(config: str, t: ConfigTally) -> str:
    """What the setting guaranteed on this evidence, in one sentence."""
    kept = [f for f, s in sorted(t.strikes.items()) if not s.losing]
    losing = {f: s for f, s in sorted(t.strikes.items()) if s.losing}
    untried = [strike_words(f) for f in STRIKE_WORDS if f not in t.strikes]
    not_tried = ""
    if untried:
        not_tried = f" Not tried here: {', '.join(untried)}; nothing is claimed for them."
    if not t.strikes:
        return "No strike on Redis in these runs: nothing shown about persistence."
    if not losing:
        tried = ", ".join(f"{strike_words(f)} x{s.strikes}" for f, s in sorted(t.strikes.items()))
        return f"No acknowledged task lost through {tried}.{not_tried}"
    parts = [f"{strike_words(f)}: {_took(s)}" for f, s in losing.items()]
    text = "Loses acknowledged tasks on " + "; on ".join(parts) + "."
    if kept:
        text += " Kept everything through " + ", ".join(strike_words(f) for f in kept) + "."
    return text + not_tried


def _took(s: StrikeTally) -> str:
    if s.everything == s.tested:
        return f"every pending task (acknowledged up to {s.oldest_lost_s:.2f} s before it here)"
    return f"some tasks, all acknowledged within {s.oldest_lost_s:.2f} s before it"


def disagreements(config: str, t: ConfigTally) -> list[str]:
    """Where this evidence says more was lost than Redis documents."""
    found = []
    bound = DOCUMENTED_WINDOW_S.get(config)
    for fault, s in sorted(t.strikes.items()):
        if not s.losing:
            continue
        if fault in KILLS and config in ("aof=no", "aof=everysec", "aof=always"):
            found.append(
                f"{strike_words(fault)} lost {s.lost} acknowledged tasks; the docs say a "
                "process kill loses nothing acknowledged"
            )
        elif bound == 0.0:
            found.append(
                f"{strike_words(fault)} lost {s.lost} acknowledged tasks; the docs say none"
            )
        elif bound is not None and (s.oldest_lost_s or 0.0) > bound:
            found.append(
                f"{strike_words(fault)} lost writes acknowledged {s.oldest_lost_s:.2f} s "
                f"before it; the docs say at most about {bound:g} s"
            )
    return found


def summary_section(all_results: Sequence[dict[str, Any]]) -> list[str]:
    """The markdown of the summary section."""
    tallies = tally(all_results)
    lines = [
        "## What each setting guaranteed here",
        "",
        "Generated from the runs above. A *strike* is a fault on Redis itself (a process "
        "kill or a power loss, on a fast or slow disk, or a failover); *at risk* are "
        "acknowledged tasks that only Redis held when it struck (not yet started by a "
        "worker; in a Cluster, only those on the struck master's slots); the window is "
        "how long before the strike the oldest lost task had been acknowledged.",
        "",
        "| config | runs | acknowledged | lost | lost, not by a strike | strikes on Redis "
        "| duplicated tasks | worst lateness p99 / max s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for config, t in tallies.items():
        strikes = "; ".join(s.words(f) for f, s in sorted(t.strikes.items())) or "none"
        lines.append(
            f"| {config} | {t.runs} | {t.acknowledged} | {t.lost} | {t.unexplained} | "
            f"{strikes} | {dup_text(t.duplicated_tasks, t.max_runs_per_task)} | "
            f"{t.lateness_p99_s:.3f} / {t.lateness_max_s:.3f} |"
        )
    lines.append("")
    for config, t in tallies.items():
        lines.append(f"- **{config}**: {guarantee(config, t)}")
        if config in DOCUMENTED:
            lines.append(f"  Redis documents: {DOCUMENTED[config]}.")
        for note in disagreements(config, t):
            lines.append(f"  **Disagrees with the docs**: {note}.")
        if t.unexplained:
            lines.append(
                f"  **{t.unexplained} lost tasks are not explained by a strike on Redis**: "
                "a loss caused by a network or worker fault, i.e. a scheduler bug."
            )
        else:
            lines.append("  No acknowledged task was lost to a network, worker or cron fault.")
    return lines


def loss_cell(results: dict[str, Any]) -> str:
    """One matrix cell: per kind of strike, lost / at risk and the oldest lost ack."""
    lost = results.get("checkers", {}).get("lost", {}).get("details", {})
    per_fault: dict[str, StrikeTally] = defaultdict(StrikeTally)
    for window in lost.get("loss_windows", []):
        per_fault[window["fault"]].add(window)
    cells = []
    for fault, s in sorted(per_fault.items()):
        cell = f"{fault} {s.lost}/{s.at_risk}"
        if s.oldest_lost_s is not None:
            cell += f" ≤{s.oldest_lost_s:.2f}s"
        cells.append(cell)
    unexplained = int(lost.get("lost_unexplained", 0))
    if unexplained:
        cells.append(f"unexplained {unexplained}")
    return "; ".join(cells) or "-"
