"""The store: one folder per run, named so that runs sort by time."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .ops import Op, write_history

HISTORY_FILE = "history.jsonl"
RESULTS_FILE = "results.json"
REPORT_FILE = "report.md"
SINK_DIR = "sink"


def run_id(scenario: str, config_label: str, seed: int, started: float) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
    label = re.sub(r"[^A-Za-z0-9_.-]+", "-", config_label)
    return f"{stamp}-{scenario}-{label}-s{seed}"


def new_run_dir(root: Path, scenario: str, config_label: str, seed: int) -> Path:
    """Create ``root/<run-id>``; a suffix keeps two runs in the same second apart."""
    base = run_id(scenario, config_label, seed, time.time())
    for n in range(1000):
        candidate = root / (base if n == 0 else f"{base}-{n}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a run folder under {root}")


def save_history(run_dir: Path, history: Sequence[Op]) -> Path:
    path = run_dir / HISTORY_FILE
    write_history(path, history)
    return path


def save_results(run_dir: Path, results: dict[str, Any]) -> Path:
    path = run_dir / RESULTS_FILE
    path.write_text(json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
    return path


def load_results(run_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run_dir / RESULTS_FILE).read_text())
    return loaded
