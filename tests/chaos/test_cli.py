"""``python -m duetime.chaos``: what it selects, and when it exits non-zero."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from duetime.chaos.cli import exit_status, main

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


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
