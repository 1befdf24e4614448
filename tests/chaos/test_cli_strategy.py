"""``--strategy`` on the command line: bad values refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from duetime.chaos.cli import _command, main, not_applicable
from duetime.chaos.config import parse_config, parse_run_config
from duetime.chaos.designs import CLIENT_RETRY, DESIGNS, REFERENCE, Design
from duetime.chaos.scenario import load_scenario

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


KILL_WORKERS = load_scenario(SCENARIOS / "kill_workers.py")


@pytest.mark.parametrize("design", [d for d in DESIGNS.values() if d is not REFERENCE])
def test_published_designs_run_on_one_server_and_behind_sentinel(design: Design) -> None:
    for label in ("aof=everysec", "topology=replicated,aof=everysec"):
        assert not_applicable(KILL_WORKERS, parse_run_config(label), design, "local") is None


@pytest.mark.parametrize(
    ("label", "why"),
    [
        ("topology=cluster,aof=everysec", "do not speak Redis Cluster"),
        ("topology=replicated,durability=wait,aof=everysec", "never wait for replicas"),
        ("server=valkey,aof=everysec", "measured on server=redis only"),
    ],
)
def test_published_designs_say_why_they_do_not_run_elsewhere(label: str, why: str) -> None:
    config = parse_run_config(label)
    assert not_applicable(KILL_WORKERS, config, REFERENCE, "local") is None
    assert why in str(not_applicable(KILL_WORKERS, config, CLIENT_RETRY, "local"))


def test_designs_off_the_default_topology_still_need_the_local_backend() -> None:
    config = parse_run_config("topology=replicated,aof=everysec")
    assert "needs local" in str(not_applicable(KILL_WORKERS, config, CLIENT_RETRY, "docker"))
