"""The comparison table: every scenario under every configuration."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from duetime.chaos.checker.verdict import RUN_VERDICTS
from duetime.chaos.designs import REFERENCE
from duetime.chaos.system.run_config import NOT_APPLICABLE

from .comparison import write_comparison
from .durability_table import durability_table, wants_table
from .figures import Figures, dup_text, figures, fmt, verdict_of
from .matrix_summary import loss_cell, summary_section
from .rate_costs import BENCHMARK_COMMAND, Setting

MATRIX_MD = "matrix.md"
MATRIX_JSON = "matrix.json"
COMPARISON_LINK = "[comparison.md](comparison.md)"
HEADERS = (
    "scenario",
    "strategy",
    "config",
    "acked",
    "executed",
    "lost",
    "lost by strike: lost/at risk, oldest ack",
    "duplicated tasks",
    "early",
    "indeterminate (recovered)",
    "indeterminate replies",
    "lateness p50/p99/max s",
    "expectations",
    "result",
)


def _expectation_cell(f: Figures) -> str:
    if not f.expectations:
        return f.status
    return " ".join(f"{name}:{'ok' if held else 'FAIL'}" for name, held in f.expectations.items())


def _lost_detail(results: dict[str, Any], key: str) -> Any:
    return results.get("checkers", {}).get("lost", {}).get("details", {}).get(key)


def _result_cell(f: Figures) -> str:
    return "FAILED" if f.verdict == "failed" else f.verdict


def verdict_counts(all_results: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many runs got each verdict, in the order of ``RUN_VERDICTS``, then ``n/a``."""
    found = Counter(verdict_of(r) for r in all_results)
    order = (*RUN_VERDICTS, NOT_APPLICABLE)
    return {v: found[v] for v in order if found[v] or v in ("passed", "failed")}


def applicable(all_results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs that were made (not ``n/a``)."""
    return [r for r in all_results if verdict_of(r) != NOT_APPLICABLE]


def not_applicable_lines(all_results: Sequence[dict[str, Any]]) -> list[str]:
    """One line per reason: which runs were not made, and why (grouped, in plan order)."""
    by_reason: dict[str, list[str]] = {}
    for r in all_results:
        if verdict_of(r) == NOT_APPLICABLE:
            where = f"{r['scenario']} under {r['config']}"
            if r.get("strategy", REFERENCE.name) != REFERENCE.name:
                where += f" ({r['strategy']})"
            by_reason.setdefault(str(r.get("skip_reason", "")), []).append(where)
    return [f"{why}: {', '.join(runs)}" for why, runs in by_reason.items()]


def counts_line(all_results: Sequence[dict[str, Any]]) -> str:
    counts = verdict_counts(all_results)
    return f"{len(all_results)} runs: " + ", ".join(f"{n} {v}" for v, n in counts.items())


def row(f: Figures, results: dict[str, Any]) -> list[str]:
    return [
        f.scenario,
        f.strategy,
        f.config,
        fmt(f.acknowledged),
        fmt(f.executed),
        fmt(f.lost),
        loss_cell(results),
        dup_text(f.duplicated_tasks, f.max_per_task),
        fmt(f.early),
        f"{fmt(f.indeterminate)} ({fmt(f.recovered)})",
        fmt(_lost_detail(results, "indeterminate_replies")),
        f"{fmt(f.lateness_p50)}/{fmt(f.lateness_p99)}/{fmt(f.lateness_max)}",
        _expectation_cell(f),
        _result_cell(f),
    ]


def opening_table(
    all_results: Sequence[dict[str, Any]],
    rate_costs: Mapping[Setting, Mapping[str, Any]] | None,
    rate_costs_source: str = "",
) -> list[str]:
    """The table the matrix opens with when some run was not on ``topology=single``:
    per topology and durability, what the reference scheduler's runs lost, repeated and
    delayed, and the schedule-rate cost (empty when every run was on one server)."""
    judged = _reference_runs(applicable(all_results))
    if not wants_table(judged):
        return []
    source = (
        f"from `{rate_costs_source}` ({BENCHMARK_COMMAND}: same topologies and durability, "
        "a share of the same server's single/none rate in the same run)"
        if rate_costs is not None
        else f"not measured: give `--rate-costs` a results.json of `{BENCHMARK_COMMAND}`"
    )
    return [
        "## Per topology and durability",
        "",
        "Summed over every scenario and persistence setting the reference scheduler ran "
        "under each; failovers are those the lost checker saw (worst promotion, worst wait "
        f"of the clients). Schedule-rate cost: {source}.",
        "",
        *durability_table(judged, rate_costs),
        "",
    ]


def render_markdown(
    all_results: Sequence[dict[str, Any]],
    command: str,
    rate_costs: Mapping[Setting, Mapping[str, Any]] | None = None,
    rate_costs_source: str = "",
    rendered_by: str = "",
) -> str:
    """The whole matrix.md. ``rendered_by``: the command that re-rendered it from a
    finished matrix's folder, if it was not ``command``."""
    again = f" Re-rendered by `{rendered_by}`." if rendered_by else ""
    lines = [
        "# Chaos matrix",
        "",
        f"Generated by `{command}`.{again} Each run wrote a folder beside this file, named "
        "`<time>-<scenario>[-<strategy>]-<config>-s<seed>`, with its report.md, "
        "timeline.png, results.json and history.jsonl (a repository keeps only a few of "
        "them as examples: they are too many to read).",
        "",
        *opening_table(all_results, rate_costs, rate_costs_source),
        "Expected losses (for example kill_redis under aof=off, where Redis documents that a "
        "restart without persistence starts empty) count as `lost:ok` when they happen.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for results in all_results:
        f = figures(results)
        cells = row(f, results)
        lines.append("| " + " | ".join(cells) + " |")
    made = applicable(all_results)
    judged = _reference_runs(made)
    measured = len(made) - len(judged)
    judged_passed = sum(1 for r in judged if verdict_of(r) == "passed")
    lines += [
        "",
        f"{judged_passed} of {len(judged)} runs of the reference scheduler met every expectation "
        f"({counts_line(judged)}). A run passes only when every expectation held and every "
        "fault it configured struck; `unknown` means it tested less than it claims.",
    ]
    na = not_applicable_lines(all_results)
    if na:
        lines.append(
            f"{len(all_results) - len(made)} runs were not applicable (`n/a`: a combination "
            "the scenario or the server cannot run, decided before anything started; "
            "never a failure):"
        )
        lines += [f"- n/a: {line}" for line in na]
    if measured:
        lines.append(
            f"{measured} runs of published designs were measured, not judged "
            f"(see {COMPARISON_LINK})."
        )
    for results in all_results:
        verdict = verdict_of(results)
        where = f"- {results['scenario']} under {results['config']}"
        if verdict in ("failed", "unknown"):
            reasons = results.get("verdict_reasons") or figures(results).failed_expectations
            lines.append(f"{where}: {verdict}: {'; '.join(reasons) or results['status']}")
    skipped = [r for r in all_results if verdict_of(r) == "skipped"]
    if skipped:
        names = ", ".join(f"{r['scenario']} under {r['config']}" for r in skipped)
        lines.append(f"- skipped ({skipped[0].get('skip_reason', '')}): {names}")
    return "\n".join([*lines, "", *summary_section(judged)]) + "\n"


def write_matrix(
    out_dir: Path,
    all_results: Sequence[dict[str, Any]],
    command: str,
    rate_costs: Mapping[Setting, Mapping[str, Any]] | None = None,
    rate_costs_source: str = "",
    rendered_by: str = "",
) -> Path:
    """Write matrix.json (a row per run, in plan order: what re-renders the matrix from
    its folder), matrix.md and, with several strategies, comparison.md."""
    rows = [
        {
            **figures(r).__dict__,
            "loss_windows": r.get("checkers", {})
            .get("lost", {})
            .get("details", {})
            .get("loss_windows", []),
            **(
                {"skip_reason": r.get("skip_reason", "")} if verdict_of(r) == NOT_APPLICABLE else {}
            ),
        }
        for r in all_results
    ]
    (out_dir / MATRIX_JSON).write_text(json.dumps(rows, indent=1, default=str) + "\n")
    path = out_dir / MATRIX_MD
    path.write_text(
        render_markdown(all_results, command, rate_costs, rate_costs_source, rendered_by)
    )
    made = applicable(all_results)
    if len({r.get("strategy", REFERENCE.name) for r in made}) > 1:
        write_comparison(out_dir, made, command)
    return path


def _reference_runs(all_results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in all_results if r.get("strategy", REFERENCE.name) == REFERENCE.name]
