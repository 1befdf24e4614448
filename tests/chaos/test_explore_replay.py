"""A shrunk example written as a scenario file: it loads back as the same scenario."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from explore_helpers import PROCESS_REGISTRY
from hypothesis import given, settings
from hypothesis import strategies as st

from duetime.chaos.client.workload import CronSpec, Workload
from duetime.chaos.explore.build import scenario_for
from duetime.chaos.explore.case import ExploreCase, FaultEvent
from duetime.chaos.explore.judge import judge, replay_expectations
from duetime.chaos.explore.replay import replay_source, run_command, write_replay
from duetime.chaos.explore.source import LINE_LENGTH, Imports, Unrenderable, split_words, to_node
from duetime.chaos.explore.strategy import SearchSpace, cases
from duetime.chaos.scenario import Scenario, load_scenario

CASE = ExploreCase(
    Workload(
        tasks=7,
        duration=2.5,
        lead=(0.2, 1.5),
        payload_bytes=(0, 4096),
        cron=(CronSpec("every1s", "* * * * * *"),),
    ),
    (
        FaultEvent(3, "kill_cron", 10, variant=1),
        FaultEvent(12, "kill_redis", 5),
        FaultEvent(20, "clock_skew", 10, variant=1),
    ),
)
FINDING = judge(
    {"lost": "invalid", "duplicated": "valid", "early": "valid", "cron": "valid"},
    "off",
    CASE.faults,
)
PATH = Path("reports/explore/aof-off/replay.py")


def finding_scenario(case: ExploreCase = CASE, description: str = "") -> Scenario:
    return scenario_for(
        case,
        PROCESS_REGISTRY,
        name="explore_found",
        description=description,
        expectations=replay_expectations(FINDING, "aof=off"),
        default_config="aof=off",
    )


def test_the_replay_file_loads_back_as_the_same_scenario(tmp_path: Path) -> None:
    scenario = finding_scenario()
    command = run_command(PATH, "aof=off", 1)
    path = write_replay(tmp_path / "replay.py", scenario, ["Found. " * 40], command)
    assert load_scenario(path) == scenario
    text = path.read_text()
    assert command in text
    assert "KillRedis(" in text and "from duetime.chaos.nemesis import" in text
    assert max(len(line) for line in text.splitlines()) <= LINE_LENGTH


@settings(max_examples=40, deadline=None)
@given(cases(SearchSpace(), PROCESS_REGISTRY), st.text(max_size=300))
def test_any_drawn_case_round_trips_through_its_source(case: ExploreCase, note: str) -> None:
    scenario = finding_scenario(case, description=f"shrunk: {note}")
    source = replay_source(scenario, [note], run_command(PATH, "aof=off", 1))
    namespace: dict[str, object] = {}
    exec(compile(source, "replay.py", "exec"), namespace)
    assert namespace["SCENARIO"] == scenario


RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF"  # the project's selection (pyproject.toml)


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_the_replay_file_is_lint_and_format_clean(tmp_path: Path) -> None:
    path = write_replay(tmp_path / "replay.py", finding_scenario(), ["Found. " * 40], "cmd")
    ruff = [sys.executable, "-m", "ruff"]
    options = ["--isolated", "--line-length", str(LINE_LENGTH)]
    for cmd in (
        [*ruff, "check", *options, "--select", RUFF_RULES, str(path)],
        [*ruff, "format", *options, "--check", str(path)],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_long_command_is_continued_on_lines_that_fit(tmp_path: Path) -> None:
    long_path = Path("reports/explore/aof-everysec/replay.py")
    command = run_command(long_path, "aof=everysec", 1)
    assert len(command) + 4 > LINE_LENGTH  # the docstring indents it by 4
    path = write_replay(tmp_path / "replay.py", finding_scenario(), ["Found."], command)
    text = path.read_text()
    assert max(len(line) for line in text.splitlines()) <= LINE_LENGTH
    doc = load_docstring(path)
    assert " ".join(doc.split("Rerun it:")[1].replace("\\\n", " ").split()) == command


def load_docstring(path: Path) -> str:
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    doc = namespace["__doc__"]
    assert isinstance(doc, str)
    return doc


def test_the_command_reruns_the_file_under_its_config_and_seed() -> None:
    assert run_command(PATH, "aof=everysec", 7) == (
        "python -m duetime.chaos run reports/explore/aof-off/replay.py"
        " --config aof=everysec --seed 7"
    )


def test_values_without_a_source_form_are_refused() -> None:
    with pytest.raises(Unrenderable):
        to_node(lambda: None, Imports())


def test_classes_are_imported_from_the_package_that_exports_them() -> None:
    imports = Imports()
    to_node(PROCESS_REGISTRY.get("kill_redis").build(1.0, 1.0, 0), imports)
    assert imports.lines() == ["from duetime.chaos.nemesis import FaultSchedule, KillRedis"]


@given(st.text(alphabet=" ab\t", max_size=80), st.integers(1, 30))
def test_split_words_keeps_the_text_and_the_width_where_words_allow(text: str, width: int) -> None:
    parts = split_words(text, width)
    assert "".join(parts) == text
    for part in parts:
        assert len(part.rstrip()) <= width or " " not in part.strip()
