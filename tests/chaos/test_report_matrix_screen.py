"""The matrix's last screen: the verdict per setting first, then only the runs worth a
look, each line within 100 columns and read the same on a terminal and in a pipe."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from duetime.chaos.report.matrix_screen import SCREEN_WIDTH, print_screen, screen_lines

# Long enough that any wrapping at 80 or 100 columns would split it.
OUT = Path("/tmp") / ("a-deep-folder-of-runs-" * 4) / "matrix-20261207-010203"
WHOLE = ("report: ", "reproduce: ", "full table: ")


def run(
    scenario: str,
    config: str,
    verdict: str,
    *,
    lost: int = 0,
    reasons: tuple[str, ...] = (),
    skip_reason: str = "",
) -> dict[str, Any]:
    checked = verdict not in ("skipped",)
    return {
        "scenario": scenario,
        "config": config,
        "strategy": "reference",
        "status": "skipped" if verdict == "skipped" else "completed",
        "verdict": verdict,
        "verdict_reasons": list(reasons),
        "skip_reason": skip_reason,
        "warnings": [],
        "run_id": f"20261207-010203-{scenario}-{config.replace('=', '-')}-s1",
        "command": f"python -m duetime.chaos run scenarios/{scenario}.py --config {config} "
        "--seed 1 --quick",
        "expectations": [],
        "checkers": {
            "lost": {
                "details": {
                    "acknowledged": 40,
                    "executed": 40 - lost,
                    "lost": lost,
                    "loss_windows": [],
                }
            },
            "duplicated": {"details": {"duplicated_tasks": 0, "max_executions_per_task": 1}},
        }
        if checked
        else {},
    }


MATRIX = [
    run("kill_redis", "aof=off", "passed", lost=12),
    run("kill_workers", "aof=off", "passed"),
    run("kill_redis", "aof=always", "failed", lost=3, reasons=("unexplained_loss: 3 " * 30,)),
    run("kill_workers", "aof=always", "passed"),
    run(
        "power_loss",
        "aof=always",
        "skipped",
        skip_reason="no fault of this scenario can be injected here (no /dev/fuse here)",
    ),
]


def texts() -> list[str]:
    return [line.text for line in screen_lines(MATRIX, OUT, OUT / "matrix.md")]


def test_the_screen_starts_with_the_verdict_of_each_setting_and_its_counts() -> None:
    lines = texts()
    assert lines[0].startswith("Chaos matrix: 5 runs: 3 passed, 1 failed, 0 unknown, 1 skipped")
    settings = lines.index("Per setting:")
    assert lines[settings + 1] == "aof=off  2 runs: 2 passed, 0 failed, 0 unknown, 0 skipped"
    assert lines[settings + 2].strip() == "lost 12 of 80 acknowledged tasks; no duplicate"
    assert "aof=always  3 runs: 1 passed, 1 failed, 0 unknown, 1 skipped" in lines


def test_only_failing_or_surprising_runs_are_listed_with_report_and_command() -> None:
    lines = texts()
    listed = lines[lines.index("Runs to look at (3):") :]
    heads = [line for line in listed if not line.startswith(" ")][1:-2]
    assert heads == [
        "PASSED  kill_redis under aof=off: lost 12 of 40 (allowed under aof=off)",
        "FAILED  kill_redis under aof=always: lost 3 of 40",
        "SKIPPED  power_loss under aof=always",
    ]
    failed = MATRIX[2]
    assert f"    report: {OUT / failed['run_id'] / 'report.md'}" in listed
    assert f"    reproduce: {failed['command']}" in listed
    assert "kill_workers" not in "\n".join(listed)
    assert sum("no /dev/fuse here" in line for line in lines) == 1
    assert lines[-1] == f"full table: {OUT / 'matrix.md'}"


def test_every_line_fits_100_columns_and_no_path_or_command_is_cut() -> None:
    for line in texts():
        if not line.lstrip().startswith(WHOLE):
            assert len(line) <= SCREEN_WIDTH, line


def test_a_pipe_at_80_columns_reads_the_same_as_a_wide_terminal() -> None:
    def shown(**console: Any) -> list[str]:
        out = io.StringIO()
        print_screen(Console(file=out, **console), screen_lines(MATRIX, OUT, OUT / "matrix.md"))
        return out.getvalue().splitlines()

    piped = shown(width=80)
    terminal = shown(width=200, force_terminal=True, color_system=None)
    assert piped == texts()
    assert [line.rstrip() for line in terminal] == piped
    assert any(len(line) > 80 for line in piped), "the test needs a line a pipe would wrap"


def test_a_clean_matrix_says_so_and_lists_no_run() -> None:
    clean = [MATRIX[1], MATRIX[3]]
    lines = [line.text for line in screen_lines(clean, OUT, OUT / "matrix.md")]
    assert "Every run passed and lost nothing." in lines
    assert not any(line.startswith("Runs to look at") for line in lines)
