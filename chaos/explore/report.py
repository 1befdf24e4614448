"""``report.md`` of the explore folder: what the search found under each configuration.

Generated from every ``<config>/search.json`` beside it, each time a search ends.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from duetime.chaos.system.redis_server import AOF_MODES

from .judge import POWER_CUTS
from .record import load_all

REPORT_FILE = "report.md"

INTRO = (
    "Each example is a whole chaos run drawn by Hypothesis: a workload (task count, due-time "
    "spread, payload sizes, cron schedules) and a timeline of faults from the testbed's "
    "nemeses, run for real against redis-server and worker processes. The checkers are the "
    "properties (nothing lost, duplicates bounded, nothing early, cron slots once). The "
    "first failing example is shrunk by re-running smaller ones within a time budget and "
    "written as a replayable scenario file; failing examples are rerun from it, smallest "
    "first, until one fails the same way again, and the file keeps that one. A loss the Redis "
    "documentation predicts for the configuration (power loss under everysec) is a "
    "finding, the expected result; any other failure is a violation (exit status 1)."
)


def _fmt(value: Any) -> str:
    return "-" if value is None else str(value)


def _config_order(record: dict[str, Any]) -> tuple[int, str]:
    aof = str(record.get("config", "")).split(",")[0].removeprefix("aof=")
    return (AOF_MODES.index(aof) if aof in AOF_MODES else len(AOF_MODES), str(record["config"]))


def _verdicts(verdicts: dict[str, str]) -> str:
    bad = [f"{name} {v}" for name, v in sorted(verdicts.items()) if v != "valid"]
    return ", ".join(bad) + (", the other checkers valid" if bad else "every checker valid")


def _link(target: str, base: Path) -> str:
    """``target`` (relative to the working directory) as a link relative to ``base``."""
    return Path(os.path.relpath(Path(target).resolve(), base.resolve())).as_posix()


def verdict_line(record: dict[str, Any]) -> str:
    found = record.get("found")
    if record["result"] == "none":
        return (
            f"nothing failed: every property held in all {record['runs']} runs "
            f"({record['calls']} examples, a case drawn twice runs once)"
        )
    assert found is not None
    f = found["figures"]
    loss = (
        f"lost {f.get('lost')} of {f.get('acknowledged')} acknowledged tasks"
        if "lost" in found["failed"]
        else f"{', '.join(found['failed'])} failed"
    )
    label = "finding (expected)" if record["result"] == "finding" else "VIOLATION"
    return f"{label}: {loss}"


def _summary_table(records: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| config | command | real runs: search + shrink | result | shrunk fault schedule | time |",
        "|---|---|---|---|---|---:|",
    ]
    for r in records:
        found = r.get("found")
        shrunk = "; ".join(found["faults"]) if found else "-"
        lines.append(
            f"| {r['config']} | `{r['command']}` | {r['runs_search']} + {r['runs_shrink']} | "
            f"{verdict_line(r)} | {shrunk} | "
            f"{r['duration_s'] / 60:.1f} min |"
        )
    return lines


def _examples_table(examples: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| # | phase | workload; faults | acked | lost | dup | early | outcome | s |",
        "|---:|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for e in examples:
        f = e["figures"]
        outcome = e["outcome"] + (f" ({', '.join(e['failed'])})" if e["failed"] else "")
        lines.append(
            f"| {e['n']} | {e['phase']} | {e['case']} | {_fmt(f.get('acknowledged'))} | "
            f"{_fmt(f.get('lost'))} | {_fmt(f.get('duplicated'))} | {_fmt(f.get('early'))} | "
            f"{outcome} | {e['duration_s']} |"
        )
    return lines


def _fault_counts(examples: Sequence[dict[str, Any]]) -> list[str]:
    """How often each nemesis struck over the runs, and how runs with a power cut ended."""
    struck: Counter[str] = Counter()
    for e in examples:
        struck.update(e["figures"].get("injected") or {})
    # The kinds that cut the power inject under their own names.
    cut = [e for e in examples if set(POWER_CUTS) & set(e["figures"].get("injected") or {})]
    lost = [e for e in cut if (e["figures"].get("lost") or 0) > 0]
    counts = ", ".join(f"{name} {n}" for name, n in struck.most_common()) or "none"
    return [
        f"- Faults injected over all runs: {counts}.",
        f"- Runs with a power cut: {len(cut)}, of which {len(lost)} lost acknowledged tasks.",
    ]


def _found_section(record: dict[str, Any], base: Path) -> list[str]:
    found = record.get("found")
    if not found:
        return []
    lines = [
        "",
        f"Shrunk example (run {found['n']}, {found['phase']} phase): {found['case']}.",
        f"{found['because']}.",
        "",
        "Faults, in seconds after the load starts:",
        "",
        *[f"- {f}" for f in found["faults"] or ["none"]],
        "",
        f"Shrinking: {record['runs_shrink']} runs in {record['shrink_s']:.0f} s, "
        + ("cut short by the budget." if record["shrink_cut_short"] else "to a fixpoint."),
    ]
    if found.get("replay"):
        lines += [
            "",
            f"Replay file: [{found['replay']}]({_link(found['replay'], base)}). Rerun it with",
            "",
            f"    {found['replay_command']}",
        ]
    for attempt in found.get("confirm") or []:
        status = "reproduced" if attempt["reproduced"] else "did NOT reproduce"
        lines += [
            "",
            f"Rerun of run {attempt['n']} from its replay file: {status} (lost "
            f"{_fmt(attempt['lost'])} of {_fmt(attempt['acknowledged'])} acknowledged; "
            f"{_verdicts(attempt['verdicts'])}; {attempt['duration_s']} s); "
            f"[its report]({_link(attempt['run_dir'], base)}/report.md).",
        ]
    if found.get("shrunk_n") not in (None, found["n"]):
        lines += [
            "",
            f"The smallest failing example (run {found['shrunk_n']}) did not fail again when "
            f"rerun; the replay file holds run {found['n']}, the smallest that did.",
        ]
    first = record.get("first_failure")
    if first and first["n"] != found["n"]:
        lines += ["", f"Before shrinking (run {first['n']}): {first['case']}."]
    return lines


def _config_section(record: dict[str, Any], base: Path) -> list[str]:
    left_out = record.get("left_out") or {}
    budget = record["budget"]
    lines = [
        "",
        f"## {record['config']}",
        "",
        f"    {record['command']}",
        "",
        f"- Started {record['started_at']}; seed {record['seed']}; search space "
        f"`{record['space']['name']}`; budget {budget['examples']} examples and "
        f"{budget['shrink_s']:.0f} s of shrinking; Hypothesis made {record['calls']} calls "
        f"(a case already run is not run again; once the shrink budget is spent, cases are "
        "not run).",
        f"- Fault kinds drawn: {', '.join(record['kinds']) or 'none'}.",
    ]
    if left_out:
        lines.append(
            "- Left out here: " + "; ".join(f"{k} ({why})" for k, why in left_out.items()) + "."
        )
    database = record.get("database") or {}
    if database.get("path"):
        lines.append(
            f"- Example database `{database['path']}`: {database['saved_before']} examples "
            "saved by earlier searches when this one began (replayed first)."
        )
    versions = sorted({str(e["figures"].get("redis")) for e in record["examples"]} - {"None"})
    if versions:
        lines.append(f"- redis-server {', '.join(versions)}.")
    lines += _fault_counts(record["examples"])
    errors = record.get("errors", 0)
    if errors:
        lines.append(f"- {errors} runs broke (testbed errors, not properties): see search.json.")
    lines += [f"- Result: {verdict_line(record)}.", *_found_section(record, base)]
    lines += ["", "Every real run of the search:", "", *_examples_table(record["examples"])]
    return lines


def _shared_table(records: Sequence[dict[str, Any]]) -> list[str]:
    """Examples drawn under more than one configuration (the same seed draws the same first
    examples), with what each configuration lost of them."""
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    for r in records:
        for e in r["examples"]:
            key = json.dumps([e["workload"], e["fault_events"]], sort_keys=True)
            runs.setdefault(key, {}).setdefault(r["config"], e)
    shared = [by for by in runs.values() if len(by) > 1]
    if not shared:
        return []
    configs = [r["config"] for r in records]
    lines = [
        "",
        "## The same example under each configuration",
        "",
        "Lost of acknowledged tasks in each run of an example drawn under several configurations:",
        "",
        "| workload; faults | " + " | ".join(configs) + " |",
        "|---|" + "---:|" * len(configs),
    ]
    for by in shared:
        case = next(iter(by.values()))["case"]
        cells = []
        for config in configs:
            f = by[config]["figures"] if config in by else {}
            cells.append(f"{_fmt(f.get('lost'))} of {_fmt(f.get('acknowledged'))}" if f else "-")
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    return lines


def render(records: Sequence[dict[str, Any]], base: Path) -> str:
    ordered = sorted(records, key=_config_order)
    lines = [
        "# Explore: generated fault schedules against real processes",
        "",
        "Generated by `python -m duetime.chaos explore` from each configuration's `search.json`; "
        "rerun a search to change it.",
        "",
        INTRO,
        "",
        *_summary_table(ordered),
        *_shared_table(ordered),
    ]
    for record in ordered:
        lines += _config_section(record, base)
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path) -> Path:
    path = out_dir / REPORT_FILE
    path.write_text(render(load_all(out_dir), out_dir))
    return path
