"""One figure of the run: rates, lateness, memory, scale and the ceiling, every system.

Published designs (not peers) have grey italic names and dashed scale lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

Results = Mapping[str, Any]


def _get(r: Any, *keys: str) -> float:
    for k in keys:
        if not isinstance(r, Mapping) or r.get(k) is None:
            return math.nan
        r = r[k]
    return float(r)


def _at(*keys: str) -> Callable[[Results], float]:
    return lambda r: _get(r, *keys)


def _bars(
    ax: Any,
    systems: Mapping[str, Results],
    series: Sequence[tuple[str, Callable[[Results], float]]],
    title: str,
    unit: str,
    log: bool = True,
) -> None:
    names = list(systems)
    width = 0.8 / len(series)
    for k, (label, get) in enumerate(series):
        values = [get(systems[n]) for n in names]
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(names))]
        ax.bar(xs, [0 if math.isnan(v) else v for v in values], width, label=label)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    for name, tick in zip(names, ax.get_xticklabels(), strict=True):
        if systems[name].get("design"):  # a published design, not a peer
            tick.set_color("dimgray")
            tick.set_fontstyle("italic")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)


def _scale(
    ax: Any, systems: Mapping[str, Results], keys: Sequence[str], title: str, unit: str
) -> None:
    for name, r in systems.items():
        rows = sorted(r.get("scale") or [], key=lambda row: row["pending"])
        if rows:
            ax.plot(
                [row["pending"] for row in rows],
                [_get(row, *keys) for row in rows],
                marker="o",
                label=name,
                linestyle="--" if r.get("design") else "-",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pending tasks")
    ax.set_ylabel(unit)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def plot(results: Mapping[str, Any], path: Path) -> None:
    """Write the figure of ``results`` (the run's JSON) to ``path``."""
    systems = {n: r for n, r in results["systems"].items() if r.get("status") == "ok"}
    fig, axes = plt.subplots(2, 4, figsize=(20, 9))
    a = axes.flat
    _bars(
        a[0],
        systems,
        [
            ("one call per task", _at("enqueue", "single_per_s")),
            ("batch API", _at("enqueue", "batch_per_s")),
        ],
        "Enqueue rate",
        "tasks/s",
    )
    _bars(
        a[1],
        systems,
        [
            (f"{c}, {p} proc", _at("drain", c, p, "per_s"))
            for c in ("default", "tuned")
            for p in ("1", "2")
        ],
        "Drain rate, no-op tasks already due",
        "tasks/s",
    )
    _bars(
        a[2],
        systems,
        [
            (f"{s}, {c}", _at("precision", c, f"{s}_ms"))
            for c in ("default", "tuned")
            for s in ("p50", "p99")
        ],
        "Lateness of delayed tasks, 1 process",
        "ms",
    )
    _bars(
        a[3],
        systems,
        [
            ("delayed", _at("memory", "delayed", "overhead_bytes")),
            ("due now", _at("memory", "due_now", "overhead_bytes")),
        ],
        "Redis bytes per pending task beyond payload",
        "bytes",
        log=False,
    )
    _scale(a[4], systems, ("drain", "per_s"), "Drain rate vs backlog (tuned, 1 proc)", "tasks/s")
    _scale(a[5], systems, ("drain", "redis_cpu_us_per_task"), "Redis CPU per task vs backlog", "us")
    _scale(a[6], systems, ("lateness", "p99_ms"), "Lateness p99 vs backlog", "ms")
    ceiling = results.get("ceiling") or {}
    names = [k for k, v in ceiling.items() if isinstance(v, (int, float))]
    a[7].bar(range(len(names)), [ceiling[k] for k in names])
    a[7].set_xticks(
        range(len(names)),
        [k.removesuffix("_per_s").replace("_", " ") for k in names],
        rotation=30,
        ha="right",
        fontsize=7,
    )
    a[7].set_title("Redis alone: trivial EVALSHA calls/s", fontsize=10)
    a[7].set_yscale("log")
    a[7].grid(axis="y", alpha=0.3)
    fig.suptitle(
        f"{results.get('command', '')}  |  {results.get('machine', {}).get('summary', '')}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
