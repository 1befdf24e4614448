"""The pytest plugin as an application uses it: its handlers, its scenario file, its tests.

An inner pytest session (pytester) runs a test through the ``chaos`` fixture against a
real redis-server and worker processes running the application's handlers: working
handlers must pass (default run, ~8 s); a ``charge`` handler that raises on every run must
fail the test, naming the lost tasks (``-m slow``). The JUnit XML carries each verdict and
report link.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

# Imported before pytester's inline runs: it restores sys.modules after each, and numpy
# (under the run's report plots) cannot be loaded twice in one process.
import duetime.chaos.runner  # noqa: F401

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _inner_session_is_not_an_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under `pytest -n`, the inner sessions pytester starts would otherwise believe they
    # are xdist workers too (the variable is inherited), which some plugins act on.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID", raising=False)


APP = """
import asyncio
import time


def send_email(task):
    time.sleep(task.data["ms"] / 1000)


async def resize(task):
    await asyncio.sleep(0.05)


def charge(task):
    raise RuntimeError(f"card declined for user {task.data['user']}")


HANDLERS = {"send_email": send_email, "resize": resize}
BROKEN = {**HANDLERS, "charge": charge}
"""

SCENARIO = """
from duetime.chaos.client.workload import TaskKind, Workload
from duetime.chaos.nemesis import FaultSchedule, KillWorker
from duetime.chaos.scenario import Scenario
from duetime.chaos.system.cluster import ClusterSettings

SCENARIO = Scenario(
    name="shop_kill",
    description="The shop's handlers, one worker SIGKILLed mid-task.",
    workload=Workload(
        tasks=16,
        duration=1.5,
        lead=(0.2, 0.6),
        kinds=(TaskKind("send_email", ({"ms": 200}, {"ms": 400})), TaskKind("resize")),
    ),
    nemeses=(
        KillWorker(
            schedule=FaultSchedule(first_s=0.8, every_s=100.0, jitter_s=0.0, hold_s=(0.2, 0.2))
        ),
    ),
    cluster=ClusterSettings(workers=2, lease_s=1.0),
    drain_timeout_s=4.0,
)
"""

TESTS = """
from pathlib import Path

HERE = Path(__file__).parent


def test_shop_survives(chaos):
    result = chaos.run(HERE / "shop_kill.py", handlers="shopapp:HANDLERS")
    assert result.passed, result.summary()


def test_broken_charge(chaos):
    result = chaos.run(
        HERE / "shop_kill.py",
        handlers="shopapp:BROKEN",
        tasks={"send_email": [{"ms": 50}], "charge": [{"user": 7}]},
    )
    assert result.passed, result.summary()
"""


def _properties(junit: Path) -> dict[str, dict[str, str]]:
    root = ET.parse(junit).getroot()
    return {
        case.attrib["name"]: {p.attrib["name"]: p.attrib["value"] for p in case.iter("property")}
        for case in root.iter("testcase")
    }


def _history(report_link: str) -> list[dict[str, object]]:
    run_dir = Path(report_link.removeprefix("file://")).parent
    lines = (run_dir / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _run_inner(pytester: pytest.Pytester, test: str) -> tuple[pytest.RunResult, dict[str, str]]:
    """Run one test of ``TESTS`` through the plugin; its outcome and JUnit properties."""
    pytester.makepyfile(shopapp=APP, shop_kill=SCENARIO, test_shop=TESTS)
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest(
        "-p",
        "duetime.chaos.pytest_plugin",
        f"--junitxml={junit}",
        f"--chaos-reports={pytester.path / 'chaos-reports'}",
        "-k",
        test,
    )
    return result, _properties(junit)[test]


VERDICT, REPORT, REASONS = (
    f"chaos.shop_kill.aof=everysec.{p}" for p in ("verdict", "report", "reasons")
)


def test_the_chaos_fixture_runs_the_application_s_handlers(pytester: pytest.Pytester) -> None:
    result, props = _run_inner(pytester, "test_shop_survives")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*duetime chaos runs*", "*passed  shop_kill aof=everysec seed 1*"])
    assert props[VERDICT] == "passed"
    reports = (pytester.path / "chaos-reports").resolve()
    assert props[REPORT].startswith(f"file://{reports}/") and props[REPORT].endswith("/report.md")
    assert Path(props[REPORT].removeprefix("file://")).is_file()
    # The application's task types ran in the workers, recorded by the wrapper.
    runs = [op for op in _history(props[REPORT]) if op["f"] == "execute"]
    kinds = {(op["type"], op["value"]["task_type"]) for op in runs}  # type: ignore[index]
    assert {("ok", "send_email"), ("ok", "resize")} <= kinds


@pytest.mark.slow
def test_a_handler_that_always_raises_fails_the_chaos_test(pytester: pytest.Pytester) -> None:
    result, props = _run_inner(pytester, "test_broken_charge")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*failed  shop_kill aof=everysec seed 1*"])
    assert props[VERDICT] == "failed"
    assert "lost tasks" in props[REASONS]
    failed = [
        op["value"]
        for op in _history(props[REPORT])
        if op["f"] == "execute" and op["type"] == "fail"
    ]
    assert failed and all("card declined for user 7" in v["error"] for v in failed)  # type: ignore[index]


MISTAKES = """
def test_unknown_scenario(chaos):
    chaos.run("kill_worker")


def test_unknown_task_type(chaos):
    chaos.run("kill_workers", handlers="shopapp:HANDLERS", tasks={"send_mail": [{}]})


def test_bad_config(chaos):
    chaos.run("kill_workers", handlers="shopapp:HANDLERS", config="aof=sometimes")


def test_bad_handlers(chaos):
    chaos.run("kill_workers", handlers="shopapp.HANDLERS")


def test_kinds_without_handlers(chaos):
    chaos.run("kill_workers", tasks={"send_email": [{}]})


def test_one_payload_not_a_list(chaos):
    chaos.run("kill_workers", handlers="shopapp:HANDLERS", tasks={"send_email": {"ms": 5}})
"""


def test_a_mistake_in_chaos_run_fails_the_test_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(shopapp=APP, test_mistakes=MISTAKES)
    result = pytester.runpytest("-p", "duetime.chaos.pytest_plugin")
    result.assert_outcomes(failed=6)
    result.stdout.fnmatch_lines_random(
        [
            "chaos.run: no scenario named 'kill_worker': give a scenario file, or one of *",
            "chaos.run: no handler in shopapp:HANDLERS for task type send_mail "
            "(it has resize, send_email)",
            "chaos.run: aof takes off, no, everysec, always; got 'sometimes'",
            "chaos.run: handlers must look like MODULE:ATTR *, not 'shopapp.HANDLERS'",
            "chaos.run: tasks of an application's own types need handlers='MODULE:ATTR'",
            "chaos.run: tasks: give a list of payloads for 'send_email', not dict *",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "duetime/chaos" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()
