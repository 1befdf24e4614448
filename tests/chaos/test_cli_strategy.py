"""``--strategy`` on the command line: bad values refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from duetime.chaos.cli import _command, main
from duetime.chaos.config import parse_config
from duetime.chaos.designs import CLIENT_RETRY, REFERENCE

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize(
    "argv",
    [
        ["run", str(SCENARIOS / "kill_workers.py"), "--strategy", "nope"],
        ["run", str(SCENARIOS / "kill_workers.py"), "--strategy", "all"],
        ["matrix", str(SCENARIOS), "--strategy", "reference,nope"],
        [
            "matrix",
            str(SCENARIOS),
            "--strategy",
            "all",
            "--worker-module",
            "duetime.chaos.client.broken_worker",
        ],
    ],
)
def test_a_bad_strategy_is_refused_with_exit_2_and_no_run(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out)]) == 2
    assert "error:" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_the_reproducing_command_names_a_design_other_than_the_reference() -> None:
    path, config = Path("scenarios/kill_workers.py"), parse_config("aof=always")
    assert "--strategy" not in _command(path, config, 1, False, None, design=REFERENCE)
    assert _command(path, config, 1, True, None, design=CLIENT_RETRY).endswith(
        "--quick --strategy client-retry"
    )
