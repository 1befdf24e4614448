"""``report.md`` of one run: what ran, what was expected, what the checkers found."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .figures import figures, fmt
from .history import Op
from .plots import plot_timeline
from .store import REPORT_FILE


def _expectation_lines(results: dict[str, Any]) -> list[str]:
    lines = ["| checker | expected | actual | held | because |", "|---|---|---|---|---|"]
    notes = []
    for e in results.get("expectations", []):
        held = "yes" if e["held"] else "**NO**"
        lines.append(
            f"| {e['checker']} | {e['expected']} | {e['actual']} | {held} | {e['because']} |"
        )
        if e["expected"] == "invalid" and e["held"]:
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
            notes.append(
                f"- `{e['checker']}`: expected {e['expected']}, got {e['actual']}: {e['summary']}"
            )
    return [*lines, "", *notes]


def render(results: dict[str, Any], plot: Path | None) -> str:
    f = figures(results)
    verdict = "PASSED" if f.passed else "FAILED"
    out = [
        f"# {results['scenario']} under {results['config']} (seed {results['seed']}): {verdict}",
        "",
        results.get("description", ""),
        "",
        f"Reproduce: `{results['command']}`",
        "",
        f"Status: {results['status']}; {results['duration_s']} s; redis-server "
        f"{results['redis']['version']} ({results['redis']['binary']}).",
        "",
    ]
    if results.get("error"):
        out += ["```", results["error"], "```", ""]
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
    out += ["## Checkers", ""]
    for name, r in results.get("checkers", {}).items():
        out += [
            f"### {name}: {r['verdict']}",
            "",
            r["summary"],
            "",
            "```json",
            json.dumps(r["details"], indent=1, sort_keys=True),
            "```",
            "",
        ]
    nem = results["nemeses"]
    out += ["## Faults", "", f"Injected: {nem['injected'] or 'none'}", ""]
    for warning in results.get("warnings", []):
        out.append(f"- **warning**: {warning}")
    for err in [*nem["errors"], *nem["heal_failures"], *results.get("producer_crashes", [])]:
        out += ["```", err.strip(), "```"]
    out += ["", f"Scheduler stats after the drain: `{results.get('stats_at_end')}`", ""]
    return "\n".join(out)


def write_report(run_dir: Path, results: dict[str, Any], history: Sequence[Op]) -> Path:
    """Write the plots and ``report.md``; returns the report's path."""
    origin = results.get("phases", {}).get("load", results["started_at"])
    plot = plot_timeline(run_dir, history, origin)
    path = run_dir / REPORT_FILE
    path.write_text(render(results, plot))
    return path
