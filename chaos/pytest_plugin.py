"""The pytest plugin: chaos runs with an application's own handlers, from its own tests.

Installed with duetime (entry point ``pytest11``); a test asks for the ``chaos`` fixture::

    def test_my_handlers_survive(chaos):
        result = chaos.run("kill_workers", handlers="myapp.tasks:HANDLERS", config="aof=everysec")
        assert result.passed, result.summary()

Each ``run`` starts a redis-server of its own, worker processes running the
application's handlers (wrapped so that each run is recorded outside Redis:
``duetime.chaos.client.user_handlers``), the scenario's faults and its checkers. A
scenario is a built-in name (``kill_workers``, ...: the files of ``scenarios/``, which
ship in the wheel) or the path of a scenario file of the application's own. Tests that
use the fixture get the ``chaos`` marker (``-m "not chaos"`` leaves them out); keywords
of ``@pytest.mark.chaos(config=..., seed=..., quick=...)`` are defaults for ``run``.
Each run's verdict and the link to its report go into the JUnit XML as properties of
the test (``chaos.<scenario>.<config>.verdict`` and ``.report``). Options:
``--chaos-reports DIR`` (where run folders go; default: pytest's temporary folder) and
``--chaos-report-url URL`` (the report link becomes URL + the path under DIR, e.g. where
CI publishes the folder).

Imports of the testbed wait until a run: a pytest session of a project that has
duetime without its ``chaos`` extra is not affected.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from duetime.chaos.client.workload import TaskKind
    from duetime.chaos.scenario import Scenario

MARKER = "chaos"
FIXTURE = "chaos"
_RUNS = pytest.StashKey[list["ChaosResult"]]()


class ChaosUsageError(Exception):
    """A ``chaos.run`` call that cannot start: reported as the test's failure, in one line."""


@dataclass(frozen=True)
class ChaosResult:
    """What one run found. ``passed`` is the verdict the CLI would exit 0 on."""

    scenario: str
    config: str
    seed: int
    verdict: str
    reasons: tuple[str, ...]
    run_dir: Path
    report: str
    results: Mapping[str, Any]

    @property
    def passed(self) -> bool:
        return bool(self.results.get("passed"))

    def summary(self) -> str:
        """One paragraph: the verdict, why, and where the report is."""
        why = "".join(f"\n  - {r}" for r in self.reasons)
        head = f"{self.scenario} {self.config} seed {self.seed}: {self.verdict}"
        return f"{head}{why}\n  report: {self.report}"


class ChaosFixture:
    """The ``chaos`` fixture: runs scenarios for one test."""

    def __init__(self, request: pytest.FixtureRequest, out: Path, report_url: str | None) -> None:
        self._request = request
        self._out = out
        self._report_url = report_url
        marker = request.node.get_closest_marker(MARKER)
        self._defaults: dict[str, Any] = dict(marker.kwargs) if marker else {}

    def run(
        self,
        scenario: str | Path,
        *,
        handlers: str | None = None,
        tasks: Sequence[TaskKind] | Mapping[str, Sequence[Any]] | None = None,
        config: str | None = None,
        seed: int | None = None,
        quick: bool | None = None,
    ) -> ChaosResult:
        """Run ``scenario`` (a built-in name or a scenario file) once and return its verdict.

        ``handlers`` (``myapp.tasks:HANDLERS``) runs the application's handlers in the
        workers; ``tasks`` says which tasks to schedule for them: ``TaskKind`` values, or
        ``{task_type: [payload, ...]}``. Without ``tasks`` each task type of ``handlers``
        gets ``{}`` as its payload, unless the scenario file names its own kinds.
        ``config`` defaults to the scenario's (``aof=everysec``), ``seed`` to 1, ``quick``
        (the scenario's shorter version) to False. A run whose faults cannot be injected
        on this machine skips the test.
        """
        options = {**self._defaults}
        config = config if config is not None else options.get("config")
        seed = seed if seed is not None else int(options.get("seed", 1))
        quick = quick if quick is not None else bool(options.get("quick", False))
        try:
            result = self._run(scenario, handlers, tasks, config, seed, quick)
        except ChaosUsageError as exc:
            mistake = str(exc)
        else:
            mistake = ""
        if mistake:
            pytest.fail(f"chaos.run: {mistake}", pytrace=False)
        self._record(result)
        if result.verdict == "skipped":
            pytest.skip(f"chaos run skipped: {result.results.get('skip_reason', '')}")
        return result

    def _run(
        self,
        name: str | Path,
        handlers: str | None,
        tasks: Sequence[TaskKind] | Mapping[str, Sequence[Any]] | None,
        config: str | None,
        seed: int,
        quick: bool,
    ) -> ChaosResult:
        try:
            from duetime.chaos.client.user_handlers import UserHandlersError
            from duetime.chaos.config import ConfigError, parse_config
            from duetime.chaos.runner import RunRequest, run_scenario
            from duetime.chaos.scenario import ScenarioError, find_scenario, load_scenario
        except ModuleNotFoundError as exc:
            missing = (exc.name or "a module").partition(".")[0]
            raise ChaosUsageError(
                f"the testbed needs duetime's chaos extra ({missing} is missing): "
                "pip install 'duetime[chaos]'"
            ) from None
        try:
            path = find_scenario(name)
            scenario = _with_handlers(load_scenario(path), handlers, tasks)
            persistence = parse_config(config or scenario.default_config)
        except (ScenarioError, ConfigError, UserHandlersError, ValueError) as exc:
            raise ChaosUsageError(str(exc)) from None
        if quick:
            scenario = scenario.quick()
        request = RunRequest(
            scenario=scenario,
            persistence=persistence,
            seed=seed,
            out_root=self._out,
            command=shlex.join(["python", "-m", "pytest", self._request.node.nodeid]),
        )
        outcome = run_scenario(request)
        results = outcome.results
        return ChaosResult(
            scenario=scenario.name,
            config=persistence.label,
            seed=seed,
            verdict=str(results.get("verdict", "failed")),
            reasons=tuple(str(r) for r in results.get("verdict_reasons", ())),
            run_dir=outcome.run_dir,
            report=self._link(outcome.run_dir / "report.md"),
            results=results,
        )

    def _link(self, report: Path) -> str:
        if self._report_url is None:
            return report.resolve().as_uri()
        relative = report.resolve().relative_to(self._out.resolve()).as_posix()
        return f"{self._report_url.rstrip('/')}/{relative}"

    def _record(self, result: ChaosResult) -> None:
        key = f"chaos.{result.scenario}.{result.config}"
        if result.seed != 1:
            key += f".seed{result.seed}"
        props = self._request.node.user_properties
        props.append((f"{key}.verdict", result.verdict))
        props.append((f"{key}.report", result.report))
        if result.reasons:
            props.append((f"{key}.reasons", "; ".join(result.reasons)))
        self._request.config.stash.setdefault(_RUNS, []).append(result)


def _with_handlers(
    scenario: Scenario,
    handlers: str | None,
    tasks: Sequence[TaskKind] | Mapping[str, Sequence[Any]] | None,
) -> Scenario:
    """The scenario with the application's handlers, checked here in the test's process."""
    from duetime.chaos.client.user_handlers import import_handlers, import_root
    from duetime.chaos.client.workload import TaskKind

    spec = handlers or scenario.cluster.user_handlers
    if not spec:
        if tasks is not None or scenario.workload.kinds:
            raise ValueError("tasks of an application's own types need handlers='MODULE:ATTR'")
        return scenario
    registry = import_handlers(spec)
    if isinstance(tasks, Mapping):
        for task_type, payloads in tasks.items():
            if not isinstance(payloads, (list, tuple)):
                raise ValueError(
                    f"tasks: give a list of payloads for {task_type!r}, "
                    f"not {type(payloads).__name__} (e.g. {{{task_type!r}: [{{...}}]}})"
                )
        kinds = tuple(TaskKind(str(t), tuple(p)) for t, p in tasks.items())
    elif tasks is not None:
        kinds = tuple(tasks)
    elif scenario.workload.kinds:
        kinds = ()
    else:
        kinds = tuple(TaskKind(t) for t in registry)
    unknown = sorted({k.task_type for k in kinds or scenario.workload.kinds} - set(registry))
    if unknown:
        raise ValueError(
            f"no handler in {spec} for task type {', '.join(unknown)} "
            f"(it has {', '.join(sorted(registry))})"
        )
    python_path = scenario.cluster.python_path or (str(import_root(spec)),)
    return scenario.with_user_handlers(spec, kinds, python_path)


# -- hooks -------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("duetime-chaos", "duetime chaos testbed")
    group.addoption(
        "--chaos-reports",
        default=None,
        help="folder for the chaos runs' folders (default: pytest's temporary folder)",
    )
    group.addoption(
        "--chaos-report-url",
        default=None,
        help="report links become URL/<path under --chaos-reports> (e.g. where CI publishes it)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(config=None, seed=1, quick=False): a test that runs the duetime chaos "
        "testbed; keywords are defaults for chaos.run",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if FIXTURE in getattr(item, "fixturenames", ()) and not item.get_closest_marker(MARKER):
            item.add_marker(MARKER)


@pytest.fixture
def chaos(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChaosFixture]:
    """Runs duetime chaos scenarios, with the application's handlers; see ``ChaosFixture.run``."""
    option = request.config.getoption("--chaos-reports")
    out = Path(option) if option else tmp_path_factory.getbasetemp() / "chaos-reports"
    out.mkdir(parents=True, exist_ok=True)
    yield ChaosFixture(request, out, request.config.getoption("--chaos-report-url"))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    runs = config.stash.get(_RUNS, [])
    if not runs:
        return
    terminalreporter.section("duetime chaos runs")
    for r in runs:
        terminalreporter.line(f"{r.verdict:>8}  {r.scenario} {r.config} seed {r.seed}  {r.report}")
