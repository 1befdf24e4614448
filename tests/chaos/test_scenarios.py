"""Every scenario file: it loads, its expectations name checkers it runs, and its full and
quick versions leave each of its nemeses time to strike at least once."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from run_helpers import REPO_ROOT

from duetime.chaos.client.workload import Workload
from duetime.chaos.nemesis import FaultSchedule, KillWorker
from duetime.chaos.scenario import (
    QuickVersion,
    Scenario,
    ScenarioError,
    builtin_names,
    discover,
    find_scenario,
    load_scenario,
)

SCENARIOS = discover(REPO_ROOT / "scenarios")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_expectations_name_checkers_the_scenario_runs(path: object) -> None:
    scenario = load_scenario(path)  # type: ignore[arg-type]
    for version in (scenario, scenario.quick()):
        for expects in version.expectations.values():
            for expect in expects:
                assert expect.checker in version.checkers, (scenario.name, expect.checker)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_each_nemesis_gets_a_chance_to_strike(path: object) -> None:
    scenario = load_scenario(path)  # type: ignore[arg-type]
    for version in (scenario, scenario.quick()):
        for nemesis in version.nemeses:
            times = nemesis.schedule.times(random.Random(1), version.workload.span)
            assert times, f"{version.name}: {nemesis.name} never strikes"


def test_a_quick_version_replaces_what_it_gives_and_keeps_the_rest() -> None:
    full = Scenario(
        name="s",
        description="d",
        workload=Workload(tasks=100, duration=10.0),
        nemeses=(KillWorker(),),
        quick_version=QuickVersion(
            nemeses=(KillWorker(schedule=FaultSchedule(first_s=1.0)),), expectations={}
        ),
    )
    quick = full.quick()
    assert quick.workload == full.workload.scaled(full.quick_factor)
    assert quick.nemeses[0].schedule.first_s == 1.0
    assert quick.expectations == {} and quick.checkers == full.checkers
    assert quick.quick_version is None
    assert Scenario(name="s", description="d").quick().workload.tasks == 100


def test_built_in_scenarios_are_found_by_name_and_a_wrong_name_lists_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert builtin_names() == [p.stem for p in SCENARIOS]
    assert (
        find_scenario("kill_workers").read_text()
        == (REPO_ROOT / "scenarios/kill_workers.py").read_text()
    )
    own = tmp_path / "mine.py"
    own.write_text("")
    assert find_scenario(own) == own
    monkeypatch.chdir(tmp_path)
    assert find_scenario("mine.py") == Path("mine.py")
    with pytest.raises(ScenarioError, match=r"no scenario named 'kill_worker': .* kill_workers"):
        find_scenario("kill_worker")
    with pytest.raises(ScenarioError, match=r"no such scenario file: nope\.py"):
        find_scenario("nope.py")
    with pytest.raises(ScenarioError, match="no such scenario file: sub/kill_workers"):
        find_scenario("sub/kill_workers")
