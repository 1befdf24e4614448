"""Injected handler failures: which tasks fail how many runs, counted across processes.

The testbed's own tasks carry ``fail_attempts`` in their data. An application's tasks
carry its payload unchanged, so the runner writes the plan beside the sink before any
worker starts (``fail-plan.json``: task id -> runs to fail), and the wrapper around the
application's handlers reads it there. Either way a run is counted by a marker file
created with ``O_EXCL``, not by attempt number: published designs count no attempts,
and the failure must be as transient for them as for the reference scheduler.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from .workload import PlannedTask

PLAN_FILE = "fail-plan.json"


def write_fail_plan(sink_dir: Path, plan: Iterable[PlannedTask]) -> None:
    """Write the failures of ``plan`` (only tasks that fail some run) for the workers."""
    failing = {t.task_id: t.fail_attempts for t in plan if t.fail_attempts}
    sink_dir.mkdir(parents=True, exist_ok=True)
    (sink_dir / PLAN_FILE).write_text(json.dumps(failing))


def read_fail_plan(sink_dir: Path) -> Mapping[str, int]:
    """The plan the runner wrote; empty if it wrote none (no task fails)."""
    try:
        return {str(k): int(v) for k, v in json.loads((sink_dir / PLAN_FILE).read_text()).items()}
    except FileNotFoundError:
        return {}


def fails_now(sink_dir: Path, task_id: str, fail_runs: int) -> bool:
    """True for the first ``fail_runs`` calls per task id, whichever process makes them."""
    for n in range(fail_runs):
        marker = sink_dir / f"injected-failure-{task_id}-{n}"
        try:
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        return True
    return False
