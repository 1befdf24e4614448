"""The designs compared: one table (scenario x config x strategy) and the causes behind it.

Written beside ``matrix.md`` when a matrix ran more than one strategy. Every
figure comes from the runs' results; each loss and duplicate is split by what
the history shows about it (a run that died mid-handler, a failed run never
retried, a task that never ran; a repeat that overlapped the first run, or
carried the same idempotency key), and each such cause is paired with the
design's own explanation from :mod:`duetime.chaos.designs.causes`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from duetime.chaos.designs import DESIGNS
from duetime.chaos.designs.causes import CAUSE_WORDS, explanation

from .figures import fmt

COMPARISON_MD = "comparison.md"


def _details(results: dict[str, Any], checker: str) -> dict[str, Any]:
    details: dict[str, Any] = results.get("checkers", {}).get(checker, {}).get("details", {})
    return details


def still_pending(results: dict[str, Any]) -> int:
    """Tasks Redis still held to run when the drain gave up (0 when it finished)."""
    backlog = results.get("stats_at_end") or {}
    return sum(int(v) for v in backlog.values()) if isinstance(backlog, dict) else 0


def _lost_split(lost: dict[str, Any], pending: int) -> dict[str, int]:
    """Lost tasks by cause; up to ``pending`` of them were only late: still in Redis
    when the run ended, counted first against those that never finished."""
    split = {}
    for cause in ("lost_never_started", "lost_started_never_finished", "lost_failed_not_retried"):
        n = int(lost.get(cause, 0))
        late = min(n, pending)
        pending -= late
        split[cause] = n - late
        split["lost_still_pending"] = split.get("lost_still_pending", 0) + late
    return split


def causes_of(results: dict[str, Any]) -> dict[str, int]:
    """How many losses, repeats and early runs of one run fall under each cause."""
    lost = _details(results, "lost")
    dup = _details(results, "duplicated")
    cron = _details(results, "cron")
    overlapping = int(dup.get("overlapping_duplicates", 0))
    counts = {
        **_lost_split(lost, still_pending(results)),
        "duplicate_overlapping": overlapping,
        "duplicate_after": int(dup.get("duplicate_executions", 0)) - overlapping,
        "early": int(_details(results, "early").get("early", 0)),
        "cron_repeated": int(cron.get("fired_more_than_once", 0)),
        "cron_missed": int(cron.get("missed", 0)),
    }
    return {k: v for k, v in counts.items() if v}


def cell(results: dict[str, Any]) -> str:
    """One design's figures in one scenario and config, compact."""
    if results.get("status") != "completed":
        return str(results.get("status"))
    lost = _details(results, "lost")
    dup = _details(results, "duplicated")
    parts = [
        f"{fmt(lost.get('lost'))}/{fmt(lost.get('acknowledged'))} lost",
        f"{fmt(dup.get('duplicate_executions'))} dup",
    ]
    late = _lost_split(lost, still_pending(results))["lost_still_pending"]
    if late:
        parts[0] += f" ({late} still pending at the end)"
    same_key = dup.get("same_key_duplicates")
    if same_key:
        parts[-1] += f" ({same_key} same key)"
    early = _details(results, "early").get("early")
    if early:
        parts.append(f"{early} early")
    p99 = _details(results, "lateness").get("p99_s")
    parts.append(f"p99 {fmt(p99)} s")
    cron = _details(results, "cron")
    if cron.get("schedules"):
        parts.append(
            f"cron {cron.get('missed', 0)} missed/{cron.get('fired_more_than_once', 0)} twice"
        )
    return ", ".join(parts)


@dataclass
class DesignTally:
    runs: int = 0
    acknowledged: int = 0
    lost: int = 0
    late: int = 0
    duplicates: int = 0
    same_key: int = 0
    early: int = 0
    p99s: list[float] = field(default_factory=list)
    # cause -> "scenario config" -> count
    causes: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, results: dict[str, Any]) -> None:
        if results.get("status") != "completed":
            return
        lost = _details(results, "lost")
        dup = _details(results, "duplicated")
        self.runs += 1
        self.acknowledged += int(lost.get("acknowledged", 0))
        self.lost += int(lost.get("lost", 0))
        self.late += _lost_split(lost, still_pending(results))["lost_still_pending"]
        self.duplicates += int(dup.get("duplicate_executions", 0))
        self.same_key += int(dup.get("same_key_duplicates", 0))
        self.early += int(_details(results, "early").get("early", 0))
        p99 = _details(results, "lateness").get("p99_s")
        if p99 is not None:
            self.p99s.append(float(p99))
        where = f"{results['scenario']} {results['config']}"
        for cause, n in causes_of(results).items():
            self.causes[cause][where] = n


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def render(all_results: Sequence[dict[str, Any]], command: str) -> str:
    strategies = list(dict.fromkeys(r.get("strategy", "reference") for r in all_results))
    by_key = {(r["scenario"], r["config"], r.get("strategy", "reference")): r for r in all_results}
    rows = list(dict.fromkeys((r["scenario"], r["config"]) for r in all_results))
    lines = [
        "# Designs compared under faults",
        "",
        f"Generated by `{command}`. Each cell is one run (matrix.md says where its folder is): "
        "acknowledged tasks lost, duplicate executions (repeats that carried the same "
        "idempotency key, which a receiver could drop), runs that started before their due "
        "time, lateness p99, and for cron scenarios the slots missed and fired twice. "
        "A task counted lost may only be late: when the drain gave up with tasks still in "
        "Redis, the cell says how many (they would have run later).",
        "",
        "Only the reference scheduler is held to expectations (see `matrix.md`); the "
        "published designs are measured as written, not fixed.",
        "",
        "| scenario | config | " + " | ".join(strategies) + " |",
        "|---|---|" + "---|" * len(strategies),
    ]
    for scenario, config in rows:
        cells = [
            cell(by_key[(scenario, config, s)]) if (scenario, config, s) in by_key else "-"
            for s in strategies
        ]
        lines.append(f"| {scenario} | {config} | " + " | ".join(cells) + " |")
    tallies: dict[str, DesignTally] = defaultdict(DesignTally)
    for r in all_results:
        tallies[r.get("strategy", "reference")].add(r)
    lines += [
        "",
        "## Totals",
        "",
        "| strategy | runs | acknowledged | lost (still pending at the end) | "
        "duplicates (same key) | early | median lateness p99 s |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in strategies:
        t = tallies[s]
        lines.append(
            f"| {s} | {t.runs} | {t.acknowledged} | {t.lost} ({t.late}) "
            f"| {t.duplicates} ({t.same_key}) "
            f"| {t.early} | {fmt(_median(t.p99s))} |"
        )
    lines += ["", "## Why, design by design", ""]
    for s in strategies:
        design = DESIGNS.get(s)
        title = f"{design.title} (source: {design.source})" if design else s
        lines += [f"### {s}: {title}", ""]
        causes = tallies[s].causes
        if not causes:
            lines += ["Nothing lost, repeated or early in any run.", ""]
            continue
        for cause, where in causes.items():
            total = sum(where.values())
            runs = ", ".join(f"{w}: {n}" for w, n in where.items())
            lines.append(f"- **{CAUSE_WORDS[cause]}: {total}** ({runs}).")
            lines.append(f"  {explanation(s, cause)}")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_comparison(out_dir: Path, all_results: Sequence[dict[str, Any]], command: str) -> Path:
    path = out_dir / COMPARISON_MD
    path.write_text(render(all_results, command))
    return path
