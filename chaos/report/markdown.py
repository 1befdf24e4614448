"""``report.md`` of one run: what ran, what was expected, what the checkers found."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from duetime.chaos.checker.facts import fault_windows
from duetime.chaos.checker.redis_docs import DISAGREES_WITH_DOCS
from duetime.chaos.history.ops import Op
from duetime.chaos.history.store import REPORT_FILE

from .figures import figures, fmt, injected_text
from .plots import plot_timeline, timeline_title

# Ids listed per checker in report.md; results.json keeps them all.
SHOWN_IDS = 50

# Fault details shown in the fault table (the rest is in history.jsonl).
SHOWN_DETAIL = (
    "how",
    "stream",
    "toxic",
    "attributes",
    "toxicity",
    "fsync_delay_s",
    "aim",
    "aof_delayed_fsync",
    "aof_buffer_length",
    "aof_dropped_bytes",
    "acked_pending_at_fault",
    "pid",
    "shift_s",
)


def _expectation_lines(results: dict[str, Any]) -> list[str]:
    lines = ["| checker | expected | actual | held | because |", "|---|---|---|---|---|"]
    notes = []
    for e in results.get("expectations", []):
        held = "yes" if e["held"] else "**NO**"
        lines.append(
            f"| {e['checker']} | {e['expected']} | {e['actual']} | {held} | {e['because']} |"
        )
        if (
            e["expected"] == "invalid"
            and e["held"]
            and e["because"].startswith(DISAGREES_WITH_DOCS)
        ):
            docs_say = e["because"][len(DISAGREES_WITH_DOCS) :]
            notes.append(
                f"- `{e['checker']}` failed **as expected** under {results['config']}, and so "
                f"this run **disagrees with the Redis docs**{docs_say}."
            )
        elif e["expected"] == "invalid" and e["held"]:
            notes.append(
                f"- `{e['checker']}` failed **as expected** under {results['config']}: "
                f"{e['because']}. This is the documented behaviour of Redis, not a "
                "testbed failure."
            )
        elif e["expected"] == "invalid":
            notes.append(
                f"- `{e['checker']}` was expected to fail under {results['config']} "
                f"({e['because']}) but this run says {e['actual']}: the run disagrees "
                "with the documentation (or the fault hit no pending work)."
            )
        elif not e["held"]:
            docs = (
                " This run disagrees with the Redis docs." if "Redis docs" in e["because"] else ""
            )
            notes.append(
                f"- `{e['checker']}`: expected {e['expected']}, got {e['actual']}: "
                f"{e['summary']}.{docs}"
            )
    return [*lines, "", *notes]


def shown_details(details: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Details with each long list cut to ``SHOWN_IDS`` items, and a note per cut list."""
    shown, notes = {}, []
    for key, value in sorted(details.items()):
        if isinstance(value, list) and len(value) > SHOWN_IDS:
            shown[key] = value[:SHOWN_IDS]
            notes.append(f"`{key}`: {SHOWN_IDS} of {len(value)} shown (all in results.json).")
        else:
            shown[key] = value
    return shown, notes


def render(results: dict[str, Any], plot: Path | None, fault_table: Sequence[str] = ()) -> str:
    f = figures(results)
    verdict = f.verdict.upper()
    out = [
        f"# {results['scenario']} under {results['config']} (seed {results['seed']}): {verdict}",
        "",
        results.get("description", ""),
        "",
        f"Reproduce: `{results['command']}`",
        "",
    ]
    if results.get("status") == "skipped":
        # Nothing ran: no figure, table or plot would say anything.
        return "\n".join([*out, f"**Skipped**: {results.get('skip_reason') or 'no reason'}", ""])
    out += [
        f"Status: {results['status']}; {results['duration_s']} s; redis-server "
        f"{results['redis']['version']} ({results['redis']['binary']}).",
        "",
    ]
    if results.get("error"):
        out += ["```", results["error"], "```", ""]
    if results.get("verdict_reasons"):
        out += [f"Why {f.verdict}:", "", *(f"- {r}" for r in results["verdict_reasons"]), ""]
    out += ["## Expectations", "", *_expectation_lines(results), ""]
    out += [
        "## Figures",
        "",
        "| acknowledged | executed | lost | indeterminate | recovered | duplicated tasks | "
        "max runs/task | early | lateness p50 / p99 / max (s) |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {fmt(f.acknowledged)} | {fmt(f.executed)} | {fmt(f.lost)} | {fmt(f.indeterminate)} | "
        f"{fmt(f.recovered)} | {fmt(f.duplicated_tasks)} | {fmt(f.max_per_task)} | "
        f"{fmt(f.early)} | {fmt(f.lateness_p50)} / {fmt(f.lateness_p99)} / "
        f"{fmt(f.lateness_max)} |",
        "",
    ]
    if plot is not None:
        out += [f"![timeline]({plot.name})", ""]
    out += _loss_lines(results)
    out += ["## Checkers", ""]
    for name, r in results.get("checkers", {}).items():
        details, cut = shown_details(r["details"])
        out += [
            f"### {name}: {r['verdict']}",
            "",
            r["summary"],
            "",
            "```json",
            json.dumps(details, indent=1, sort_keys=True),
            "```",
            "",
            *(line for note in cut for line in (note, "")),
        ]
    nem = results["nemeses"]
    out += ["## Faults", "", f"Injected: {injected_text(nem['injected'])}", ""]
    if fault_table:
        out += ["Fault windows, in seconds since the load started:", "", *fault_table]
    for warning in results.get("warnings", []):
        out.append(f"- **warning**: {warning}")
    for err in [*nem["errors"], *nem["heal_failures"], *results.get("producer_crashes", [])]:
        out += ["```", err.strip(), "```"]
    stats = results.get("stats_at_end")
    if stats is not None:
        shown = ", ".join(f"{k} {v}" for k, v in stats.items()) or "nothing"
        out += ["", f"Left in the scheduler after the drain: {shown}."]
    else:
        out += ["", "Left in the scheduler after the drain: not known (Redis did not answer)."]
    out.append("")
    return "\n".join(out)


def _loss_lines(results: dict[str, Any]) -> list[str]:
    lost = results.get("checkers", {}).get("lost", {}).get("details", {})
    windows = lost.get("loss_windows", [])
    if not windows:
        return []
    origin = results.get("phases", {}).get("load", results["started_at"])
    lines = [
        "## Lost tasks by strike on Redis",
        "",
        "At risk: acknowledged before the strike and not yet started by a worker (only Redis "
        "held them; in a Cluster, only those on the struck master's slots). Ages: how long "
        "before the strike the lost tasks had been acknowledged.",
        "",
        "| strike | at (s) | at risk | lost | lost acknowledged (s before) "
        "| everything at risk lost |",
        "|---|---|---|---|---|---|",
    ]
    for w in windows:
        ages = f"{w['newest_lost_ack_s']:.3f} to {w['oldest_lost_ack_s']:.3f}" if w["lost"] else "-"
        lines.append(
            f"| {w['fault_id']} | {w['at'] - origin:.2f} | {w['at_risk']} | {w['lost']} | "
            f"{ages} | {'yes' if w['everything_at_risk_lost'] else 'no'} |"
        )
    if lost.get("lost_unexplained"):
        lines.append("")
        lines.append(
            f"**{lost['lost_unexplained']} lost tasks are explained by no strike on Redis.**"
        )
    return [*lines, ""]


def _fault_lines(history: Sequence[Op], origin: float) -> list[str]:
    windows = fault_windows(history)
    if not windows:
        return []
    lines = [
        "| fault | from (s) | struck (s) | to (s) | targets | detail |",
        "|---|---|---|---|---|---|",
    ]
    for w in windows:
        began = w.detail.get("began_at")
        start = min(w.start, float(began)) if began is not None else w.start
        struck = w.detail.get("struck_at")
        detail = {k: w.detail[k] for k in SHOWN_DETAIL if k in w.detail}
        lines.append(
            f"| {w.fault} | {start - origin:.2f} | "
            f"{'-' if struck is None else f'{float(struck) - origin:.2f}'} | "
            f"{w.end - origin:.2f} | {', '.join(w.targets) or 'Redis'} | "
            f"{json.dumps(detail, sort_keys=True) if detail else ''} |"
        )
    return [*lines, ""]


def write_report(run_dir: Path, results: dict[str, Any], history: Sequence[Op]) -> Path:
    """Write the plots and ``report.md``; returns the report's path."""
    origin = results.get("phases", {}).get("load", results["started_at"])
    skipped = results.get("status") == "skipped"
    title = timeline_title(results)
    plot = None if skipped else plot_timeline(run_dir, history, origin, title)
    path = run_dir / REPORT_FILE
    path.write_text(render(results, plot, _fault_lines(history, origin)))
    return path
