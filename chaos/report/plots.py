"""Plots of a run: throughput and lateness over time, fault windows shaded (one kind),
or as a strip per kind atop each panel (several kinds, whose shades would mix).

A fault is shaded from when it began (its ``began_at`` detail, else its start: a
disk slowed before it was struck) to its heal; the moment it struck Redis
(``struck_at``) is a dashed line. Lost tasks are drawn at their due time and, as a
count per second, at their acknowledgement: the window a strike took them from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from duetime.chaos.checker.facts import FaultWindow, executions, fault_windows, schedule_outcomes
from duetime.chaos.checker.lateness import latenesses
from duetime.chaos.checker.loss_windows import ack_times, lost_tasks
from duetime.chaos.history.ops import SCHEDULE, Op

from .figures import verdict_of

TIMELINE_FILE = "timeline.png"
BIN_S = 1.0
# Tasks that finished this much later than they started are drawn twice (a re-run).
RERUN_GAP_S = 1.0
# Height of each kind's strip atop the lower panels, as a fraction of the panel.
LANE_STRIP = 0.025
FAULT_COLORS = ("tab:red", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def timeline_title(results: dict[str, Any]) -> str:
    """``kill_redis under aof=everysec, seed 1: PASSED`` (and the strategy if not the
    reference)."""
    strategy = results.get("strategy", "reference")
    design = "" if strategy == "reference" else f" ({strategy})"
    return (
        f"{results['scenario']}{design} under {results['config']}, seed {results['seed']}: "
        f"{verdict_of(results).upper()}"
    )


def plot_timeline(
    run_dir: Path, history: Sequence[Op], origin: float, title: str = ""
) -> Path | None:
    """Write ``timeline.png``: runs finished and schedules acknowledged per second, and
    each task's lateness at its first start, under ``title``; one lane and one colour per
    kind of fault, named in a legend. Returns None for an empty history."""
    if not history:
        return None
    end = max(op.time for op in history) - origin
    bins = max(1, math.ceil(end / BIN_S))
    edges = [i * BIN_S for i in range(bins + 1)]
    runs = [e.end - origin for e in executions(history) if e.executed and e.end is not None]
    acks = [op.time - origin for op in history if op.f == SCHEDULE and op.type == "ok"]
    starts: dict[str, float] = {}
    for e in executions(history):
        starts.setdefault(e.task_id, e.start - origin)
    late = latenesses(history)
    outcomes = schedule_outcomes(history)

    # A bare Figure renders with Agg and touches no pyplot global state.
    fig = Figure(figsize=(11, 7.5))
    lanes, top, bottom = fig.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2.2, 2.2]}
    )
    top.hist(runs, bins=edges, histtype="step", label="runs finished /s", color="tab:blue")
    top.hist(
        acks, bins=edges, histtype="step", label="schedules acknowledged /s", color="tab:green"
    )
    acked_at = ack_times(history)
    lost_acks = [acked_at[t] - origin for t in sorted(lost_tasks(history))]
    if lost_acks:
        top.hist(
            lost_acks,
            bins=edges,
            histtype="stepfilled",
            alpha=0.5,
            label="acknowledged, later lost /s",
            color="black",
        )
    top.set_ylabel("per second")
    ids = sorted(late)
    bottom.scatter(
        [starts[t] for t in ids],
        [late[t] for t in ids],
        s=6,
        color="tab:blue",
        label="lateness at first start",
    )
    finished = latenesses(history, until_finished=True)
    done_ids = sorted(t for t in finished if finished[t] - late.get(t, 0.0) > RERUN_GAP_S)
    if done_ids:
        bottom.scatter(
            [starts[t] for t in done_ids],
            [finished[t] for t in done_ids],
            s=10,
            marker="^",
            color="tab:orange",
            label=f"lateness until it finished (where over {RERUN_GAP_S:g} s later)",
        )
    lost = [t for t, o in outcomes.items() if o.acked and t not in starts]
    if lost:
        bottom.scatter(
            [outcomes[t].due_at - origin for t in lost],
            [0.0] * len(lost),
            marker="x",
            color="black",
            label=f"lost ({len(lost)}), at due time",
        )
    bottom.set_ylabel("lateness (s)")
    bottom.set_xlabel("seconds since the load started")

    windows = fault_windows(history)
    kinds = sorted({w.fault for w in windows})
    for w in windows:
        color = FAULT_COLORS[kinds.index(w.fault) % len(FAULT_COLORS)]
        left = _began(w) - origin
        right = (w.end if w.end != math.inf else origin + end) - origin
        lane = kinds.index(w.fault)
        lanes.broken_barh([(left, right - left)], (lane - 0.4, 0.8), color=color)
        struck = w.detail.get("struck_at")
        for ax in (top, bottom):
            if len(kinds) == 1:
                ax.axvspan(left, right, color=color, alpha=0.12, lw=0)
            else:
                # Overlapping shades of several kinds mix into one band: a strip per kind.
                high = 1.0 - lane * LANE_STRIP
                ax.axvspan(left, right, high - LANE_STRIP, high, color=color, alpha=0.6, lw=0)
            if struck is not None:
                ax.axvline(float(struck) - origin, color=color, ls="--", lw=1)
    lanes.set_yticks(range(len(kinds)), kinds, fontsize=8)
    lanes.set_ylim(max(len(kinds), 1) - 0.4, -0.6)  # first kind on top, as in the legend
    where = "shaded below" if len(kinds) == 1 else "a strip each atop the panels below"
    lanes.set_title(
        f"faults: one lane and colour each ({where}; dashed: the moment it struck Redis)"
        if kinds
        else "no fault injected",
        fontsize=9,
        loc="left",
    )
    if kinds:
        lanes.legend(
            handles=[
                Patch(color=FAULT_COLORS[i % len(FAULT_COLORS)], label=kind)
                for i, kind in enumerate(kinds)
            ],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=8,
            frameon=False,
        )
    if title:
        fig.suptitle(title, fontsize=11, fontweight="bold")
    top.legend(loc="upper right", fontsize=8)
    bottom.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path = run_dir / TIMELINE_FILE
    fig.savefig(path, dpi=90)
    return path


def _began(w: FaultWindow) -> float:
    began = w.detail.get("began_at")
    return min(w.start, float(began)) if began is not None else w.start
