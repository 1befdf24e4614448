"""The summary of one run on the terminal: within 100 columns, words not Python reprs,
paths and commands whole, and a skipped run says only why."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from duetime.chaos.report.matrix_screen import SCREEN_WIDTH
from duetime.chaos.report.terminal import print_summary

RUN_DIR = "/tmp/" + "a-long-folder-name-" * 5 + "/20261207-010203-kill_redis-aof-off-s1"
COMMAND = "python -m duetime.chaos run scenarios/kill_redis.py --config aof=off --seed 1 --quick"


def results(**extra: Any) -> dict[str, Any]:
    checker = {"verdict": "valid", "summary": "all 36 acknowledged tasks executed " * 6}
    return {
        "scenario": "kill_redis",
        "config": "aof=off",
        "seed": 1,
        "status": "completed",
        "verdict": "passed",
        "verdict_reasons": [],
        "command": COMMAND,
        "run_id": "r",
        "expectations": [],
        "checkers": {"lost": {**checker, "details": {"acknowledged": 36, "lost": 0}}},
        "nemeses": {"injected": {"kill_redis": 3}},
        "warnings": [],
        **extra,
    }


def shown(res: dict[str, Any], **console: Any) -> list[str]:
    out = io.StringIO()
    print_summary(Console(file=out, color_system=None, **console), res, RUN_DIR)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_the_summary_fits_100_columns_on_a_wide_terminal_and_keeps_paths_whole() -> None:
    lines = shown(results(), width=200, force_terminal=True)
    for line in lines:
        if not line.startswith(("PASSED", "reproduce:")):
            assert len(line) <= SCREEN_WIDTH, line
    assert f"PASSED  report: {RUN_DIR}/report.md" in lines
    assert f"reproduce: {COMMAND}" in lines
    assert "faults injected: kill_redis x3" in lines


def test_a_pipe_at_80_columns_splits_no_path_or_command() -> None:
    lines = shown(results(), width=80)
    assert f"PASSED  report: {RUN_DIR}/report.md" in lines
    assert f"reproduce: {COMMAND}" in lines


def test_a_skipped_run_says_why_once_and_nothing_else() -> None:
    reason = "no fault of this scenario can be injected here (power_loss needs FUSE: " * 2
    lines = shown(
        results(status="skipped", verdict="skipped", skip_reason=reason, checkers={}),
        width=200,
        force_terminal=True,
    )
    assert lines[0] == f"SKIPPED  report: {RUN_DIR}/report.md"
    assert lines[-1] == f"reproduce: {COMMAND}"
    said = lines[1:-1]
    assert " ".join(line.strip() for line in said) == reason.strip()
    assert all(len(line) <= SCREEN_WIDTH for line in said)
