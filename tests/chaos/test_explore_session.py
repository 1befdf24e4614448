"""The search end to end on real processes: find, shrink, write a replay file that reruns.

The first test is sized for CI (about a minute): under ``aof=off`` a Redis kill
loses acknowledged tasks, as Redis documents, so the search must find a loss,
shrink it and write a replay file that ``python -m duetime.chaos run`` reproduces. The
second is the property search itself under ``aof=always``, with every fault kind
available here: its number of examples follows the Hypothesis profile (a few by
default, many under ``--hypothesis-profile=deep``), and its example database
persists, so a failure found once is replayed first the next time. The slow test
is the issue's "done when" in small: with power loss only and one budget, a loss
under ``aof=everysec`` that its replay file reproduces, and none under ``always``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from explore_helpers import PROCESS_REGISTRY, fake_result, loses_on_late_redis_kill
from hypothesis import settings
from run_helpers import REPO_ROOT, pid_alive, started_processes

from duetime.chaos.config import parse_config
from duetime.chaos.explore.found import replay_candidates
from duetime.chaos.explore.report import REPORT_FILE
from duetime.chaos.explore.search import Budget, search
from duetime.chaos.explore.session import ExploreRequest, explore
from duetime.chaos.explore.strategy import CI_SPACE, SearchSpace, cases
from duetime.chaos.history.store import HISTORY_FILE
from duetime.chaos.system.powerfs import available as powerfs_available

# Each example is a real run of several seconds: a pytest example budget buys this
# fraction of it in explored runs (2 under the default profile, 100 under deep).
RUNS_PER_PROFILE_EXAMPLE = 1 / 20


def profile_budget() -> Budget:
    examples = max(2, round(settings.default.max_examples * RUNS_PER_PROFILE_EXAMPLE))
    return Budget(examples=examples, shrink_s=60.0 if examples <= 5 else 300.0)


def test_search_finds_a_loss_shrinks_it_and_writes_a_replay_that_reruns(tmp_path: Path) -> None:
    result = explore(
        ExploreRequest(
            persistence=parse_config("aof=off"),
            seed=1,
            budget=Budget(examples=4, shrink_s=15.0),
            command="(test)",
            space=CI_SPACE,
            kinds=("kill_redis",),
            out_dir=tmp_path / "explore",
            runs_dir=tmp_path / "runs",
            database_dir=None,
            confirm=0,
        )
    )
    record = result.record
    assert record["result"] == "finding", record["examples"]
    found = record["found"]
    assert found["failed"] == ["lost"]
    assert found["fault_events"] and all(f["kind"] == "kill_redis" for f in found["fault_events"])
    assert record["runs_shrink"] >= 1
    replay = Path(found["replay"])
    # The docstring wraps a long command with (escaped) backslashes: read it unwrapped.
    unwrapped = re.sub(r" \\\\\n\s*", " ", replay.read_text())
    assert replay.is_file() and found["replay_command"] in unwrapped
    report = (tmp_path / "explore" / REPORT_FILE).read_text()
    assert "finding (expected)" in report and found["replay_command"] in report

    command = shlex.split(found["replay_command"])
    assert command[:4] == ["python", "-m", "duetime.chaos", "run"]
    rerun = subprocess.run(
        [sys.executable, *command[1:], "--out", str(tmp_path / "rerun")],
        cwd=Path.cwd(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, "the replay did not reproduce the loss:\n" + rerun.stdout
    (run_dir,) = (tmp_path / "rerun").iterdir()
    for proc in started_processes(run_dir / HISTORY_FILE):
        assert not pid_alive(int(proc["pid"]))


def test_generated_schedules_hold_every_property_under_aof_always(tmp_path: Path) -> None:
    result = explore(
        ExploreRequest(
            persistence=parse_config("aof=always"),
            seed=1,
            budget=profile_budget(),
            command="(pytest)",
            space=CI_SPACE,
            out_dir=tmp_path / "explore",
            runs_dir=tmp_path / "runs",
            database_dir=REPO_ROOT / ".hypothesis" / "explore",
            confirm=0,
        )
    )
    record = result.record
    found = record["found"] or {}
    assert record["result"] != "violation", (
        f"{found.get('case')}: {found.get('because')}\nrerun: {found.get('replay_command')}"
    )
    assert record["errors"] == 0, [e["error"] for e in record["examples"] if e["error"]]
    assert record["runs"] >= 1


def test_replay_candidates_are_the_failing_examples_smallest_first() -> None:
    outcome = search(
        cases(SearchSpace(), PROCESS_REGISTRY),
        lambda case: fake_result(case, lost=loses_on_late_redis_kill(case)),
        Budget(examples=100, shrink_s=1e9),
        seed_value=1,
        database=None,
    )
    candidates = replay_candidates(outcome)
    assert candidates[0] == outcome.found
    assert all(c.result.failing for c in candidates)
    assert [c.n for c in candidates[1:]] == sorted((c.n for c in candidates[1:]), reverse=True)
    assert len(candidates) == sum(1 for e in outcome.examples if e.result.failing)


@pytest.mark.slow
def test_power_loss_loses_under_everysec_and_not_under_always_in_the_same_budget(
    tmp_path: Path,
) -> None:
    """The issue's "done when", small: power loss only, the same budget for both configs."""
    ok, why = powerfs_available()
    if not ok:
        pytest.skip(why)
    budget = Budget(examples=6, shrink_s=60.0)
    results = {
        config: explore(
            ExploreRequest(
                persistence=parse_config(config),
                seed=1,
                budget=budget,
                command="(test)",
                space=CI_SPACE,
                kinds=("power_loss",),
                out_dir=tmp_path / "explore",
                runs_dir=tmp_path / "runs",
                database_dir=None,
            )
        ).record
        for config in ("aof=everysec", "aof=always")
    }
    everysec, always = results["aof=everysec"], results["aof=always"]
    assert everysec["result"] == "finding", everysec["examples"]
    assert everysec["found"]["failed"] == ["lost"]
    assert everysec["found"]["reproduced"], everysec["found"]["confirm"]
    assert always["result"] == "none", always["found"]
    assert always["errors"] == 0
