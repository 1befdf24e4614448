"""Write a run's ``results.json``, ``report.md`` and ``benchmarks.png``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import goals, table

METHODOLOGY = """\
Every system runs against the same redis-server (no persistence), started by the run;
FLUSHALL and MEMORY PURGE separate measurements. Each system's client and workers run in
their own processes from its own environment (a virtualenv per Python peer, an npm install
for BullMQ), through a small driver in `benchmarks/peers/` that does the same for all:

- Tasks are no-ops whose payload is `{"i", "due", "pad"}`. The handler's only act is one
  O_APPEND write of `i due start` to a file (start = wall clock), so forked or killed
  processes lose nothing. Logging is at WARNING for every system in every setting.
- Enqueue: one producer process, tasks due now; the time covers the enqueue calls only.
  One call per task, then the batch API in calls of 1,000 tasks where there is one.
- Drain: tasks due now are enqueued while no worker runs, then P worker processes start.
  The rate is the number of handler starts between the 10th and 90th percentile of start
  times divided by the time between them (start-up and stragglers left out alike); a
  drain is cut `drain_cap_s` after its first run. Redis commands (including those inside
  scripts) and redis-server CPU from the workers' launch to the end, per task run.
- Delayed-task precision: one worker process, started and ready first; then one producer
  enqueues N tasks due evenly over the spread (whole milliseconds), the first `lead_s`
  after it connected. Lateness = handler start - due time, first run of each task;
  p50/p99 nearest rank. Early: started before due. Missing: not run `grace_s` after the
  last due time.
- Memory: `used_memory` before and after enqueuing N tasks with no worker running, per
  task, minus the payload as compact JSON (`pad` filler bytes plus `i` and `due`).
- Scale: a backlog of tasks due over the next day is grown in place (10 thousand, 1
  million, 10 million); at each level one worker process at the tuned settings drains
  tasks due now and runs delayed tasks, as above.
- Ceiling: EVALSHA of `return 1` from Python (one connection, unpipelined and 16 deep) and
  from redis-benchmark (50 clients); duetime's drain as a fraction of it, given the
  script calls it spends per task, and of what redis-server CPU per task allows.
- "default" is each system as it comes (the worker's own defaults); "tuned" is the
  system's settings chosen for throughput, listed per system below.
- The published designs of the chaos testbed (`chaos/designs/`) run through one driver,
  `benchmarks/peers/design.py`, in the main environment: one client call per task (they
  have no batch API), the design's own worker with 4 threads (default) or 32 (tuned).
  A design whose dispatcher runs in one process has the measurement's processes elect it
  through Redis (INCR: the process that gets 1 dispatches). They have a table of their own.
"""


BUSY = " (the machine was busy with other work: compare ratios, not absolute numbers)"


def ceiling_fraction(duetime: Mapping[str, Any], ceiling: Mapping[str, Any]) -> dict[str, Any]:
    """duetime's drain (default, 1 process) against what Redis alone allows."""
    d = (duetime.get("drain") or {}).get("default", {}).get("1")
    if not d:
        return {}
    rate, scripts = d.get("per_s"), d.get("script_calls_per_task")
    out: dict[str, Any] = {"drain_per_s": rate, "script_calls_per_task": scripts}
    if rate and scripts and not math.isnan(scripts):
        for name, ceiling_rate in ceiling.items():
            if isinstance(ceiling_rate, (int, float)) and ceiling_rate > 0:
                allowed = ceiling_rate / scripts
                out[name.removesuffix("_per_s")] = {
                    "tasks_per_s": allowed,
                    "fraction": rate / allowed,
                }
    cpu = d.get("redis_cpu_us_per_task")
    if rate and cpu and not math.isnan(cpu) and cpu > 0:
        allowed = 1e6 / cpu
        out["redis_cpu"] = {"tasks_per_s": allowed, "fraction": rate / allowed}
    return out


def _ceiling_md(ceiling: Mapping[str, Any], fraction: Mapping[str, Any]) -> str:
    lines = ["| Redis alone | calls/s |", "|---|---:|"]
    for k, v in ceiling.items():
        value = f"{v:,.0f}" if isinstance(v, (int, float)) else str(v)
        lines.append(f"| {k.removesuffix('_per_s').replace('_', ' ')} | {value} |")
    if fraction:
        lines += [
            "",
            f"duetime's drain (default settings, 1 process): {fraction['drain_per_s']:,.0f} "
            f"tasks/s, {fraction['script_calls_per_task']:.3f} script calls per task.",
            "",
            "| ceiling | tasks/s it allows | duetime's fraction of it |",
            "|---|---:|---:|",
        ]
        tail = [
            "",
            "Each Redis-alone rate divided by the script calls duetime spends per task gives the "
            "tasks/s it would allow; `redis cpu` is one second of redis-server CPU divided by the "
            "CPU it spent per task in that drain. The Python rates are bounded by the client, "
            "one connection, as a worker's claims are.",
        ]
        for k, v in fraction.items():
            if isinstance(v, Mapping):
                lines.append(
                    f"| {k.replace('_', ' ')} | {v['tasks_per_s']:,.0f} | {v['fraction']:.1%} |"
                )
        lines += tail
    return "\n".join(lines) + "\n"


def _systems_md(results: Mapping[str, Any]) -> str:
    lines = ["| system | status | batch API | default | tuned |", "|---|---|---|---|---|"]
    for name, r in results["systems"].items():
        settings = r.get("settings", {})
        status = r["status"] if r["status"] == "ok" else f"{r['status']}: {r.get('reason', '')}"
        label = r.get("label", name) + (" (published design)" if r.get("design") else "")
        lines.append(
            f"| {label} | {status} | {r.get('batch_api') or 'none'} | "
            f"{settings.get('default', '')} | {settings.get('tuned', '')} |"
        )
    notes = [
        f"- {r.get('label', n)}: {note}"
        for n, r in results["systems"].items()
        for note in [*r.get("notes", []), r.get("scale_note"), r.get("scale_error")]
        if note
    ]
    return "\n".join(lines + (["", *notes] if notes else [])) + "\n"


def scale_levels(results: Mapping[str, Any]) -> list[int]:
    """Every backlog size some system was measured at."""
    levels = {row["pending"] for r in results["systems"].values() for row in r.get("scale") or []}
    return sorted(levels)


def markdown(results: Mapping[str, Any]) -> str:
    """``report.md``: command, machine, the ratio table, goals, ceiling, settings, method."""
    ok = {n: r for n, r in results["systems"].items() if r.get("status") == "ok"}
    m = results["machine"]
    parts = [
        "# duetime against its peers\n",
        f"Command: `{results['command']}` ({results['duration_s'] / 60:.1f} min, "
        f"{results['when']})\n",
        f"Machine: {m['summary']}. Load average (1 min) at the start {m['load_before'][0]:.2f}, "
        f"at the end {m['load_after'][0]:.2f}, highest seen {m['load_max']:.2f}"
        f"{BUSY if m['busy'] else ''}.\n",
        "Ratios are duetime / peer, measured in this one run: above 1 means duetime's number is "
        "larger (better for rates; worse for lateness, memory, CPU and commands).\n",
        table.sections(ok, scale_levels(results)),
        "## duetime's goals (issue 7)\n",
        goals.markdown(results["goals"]) if results["goals"] else "duetime was not measured.\n",
        "## The ceiling\n",
        _ceiling_md(results.get("ceiling") or {}, results.get("ceiling_fraction") or {}),
        "## Systems and settings\n",
        _systems_md(results),
        "## How it is measured\n",
        results["methodology"],
        "\nSizes: `" + json.dumps(results["sizes"]) + "`\n",
    ]
    versions = [
        f"- {r.get('label', n)}: `{r['packages']}`" for n, r in ok.items() if r.get("packages")
    ]
    if versions:
        parts += ["\nInstalled packages:\n", "\n".join(versions) + "\n"]
    return "\n".join(parts)


def write(results: Mapping[str, Any], out: Path) -> None:
    """Write ``results.json``, ``report.md`` and ``benchmarks.png`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(clean(results), indent=2, allow_nan=False)
    (out / "results.json").write_text(text + "\n")
    (out / "report.md").write_text(markdown(results))
    from .plot import plot  # matplotlib is slow to import; only needed here

    plot(results, out / "benchmarks.png")


def clean(obj: Any) -> Any:
    """``obj`` with NaN and infinities as None, so that the JSON is standard."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Mapping):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj
