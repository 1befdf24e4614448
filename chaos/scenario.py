"""Scenarios: a test description (workload, cluster, nemeses, expectations) in one value.

A scenario file in ``scenarios/`` defines ``SCENARIO = Scenario(...)``, overriding
only what differs from the defaults here. The repository's ``scenarios/`` ship in the
wheel as ``duetime/chaos/scenarios/`` (the link ``chaos/scenarios -> ../scenarios``,
package data): :func:`find_scenario` finds them by name from a checkout and from an
installed wheel alike.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from duetime.chaos.checker import DEFAULT_CHECKERS, Checker
from duetime.chaos.checker.expectations import ANY_CONFIG, Expect
from duetime.chaos.checker.redis_docs import REPLICATION_EXPECTATIONS
from duetime.chaos.client.workload import TaskKind, Workload
from duetime.chaos.nemesis import Nemesis
from duetime.chaos.system.cluster import ClusterSettings
from duetime.chaos.system.redis_server import AOF_MODES
from duetime.chaos.system.run_config import REPLICATED, SINGLE, TOPOLOGIES

NO_UNEXPLAINED_LOSS = Expect(
    "unexplained_loss",
    "valid",
    "every acknowledged schedule must run, unless a strike on Redis took it inside the "
    "window Redis documents for this config: a task is deleted only when its run is "
    "acknowledged",
)
BOUNDED_DUPLICATES = Expect(
    "duplicated",
    "valid",
    "at-least-once: a task may run again after a fault, but at most max_attempts times",
)
FENCED = Expect(
    "fenced",
    "valid",
    "a worker whose lease was taken over can no longer ack, fail, renew or release the task: "
    "each claim's fencing token is larger than any before it, and Redis refuses the old one",
)
RUNS_OUT_OF_ATTEMPTS = Expect(
    "dead_letters",
    "valid",
    "a task that fails every run is run max_attempts times, then dead-lettered",
)
SKEW_IN_FORCE = Expect(
    "skew",
    "valid",
    "a clock-skew fault tested something only if the skewed worker ran tasks with its "
    "clock shifted (recorded by the handlers, not assumed)",
)
NEVER_EARLY = Expect(
    "early", "valid", "due time is judged by Redis's clock: no task starts before it is due"
)
CRON_ONCE = Expect(
    "cron",
    "valid",
    "each slot fires once while any ticker is up; outages follow the documented misfire policy",
)
STANDARD_EXPECTATIONS: Mapping[str, tuple[Expect, ...]] = {
    ANY_CONFIG: (
        NO_UNEXPLAINED_LOSS,
        BOUNDED_DUPLICATES,
        FENCED,
        RUNS_OUT_OF_ATTEMPTS,
        NEVER_EARLY,
        SKEW_IN_FORCE,
        CRON_ONCE,
    ),
    # On replicated and clustered topologies: what replication and durability promise.
    **REPLICATION_EXPECTATIONS,
}
ALL_AOF_CONFIGS = tuple(f"aof={mode}" for mode in AOF_MODES)
# For scenarios whose faults hit only the testbed's own processes (workers, tickers).
EVERY_TOPOLOGY = TOPOLOGIES
NOT_SHARDED = (SINGLE, REPLICATED)


@dataclass(frozen=True)
class QuickVersion:
    """What ``--quick`` runs instead of the full test; None keeps the full value.

    For scenarios whose faults need a set time (a fault held longer than the lease,
    a slow disk that must lag first) that scaling the workload alone would cut.
    ``expectations`` must drop what the shorter run no longer tests.
    """

    workload: Workload | None = None
    nemeses: tuple[Nemesis, ...] | None = None
    expectations: Mapping[str, tuple[Expect, ...]] | None = None


@dataclass(frozen=True)
class Scenario:
    """One test description; ``quick()`` is the same test, shorter (for CI): the
    ``quick_version`` if given, else the workload scaled by ``quick_factor``.

    ``topologies``: where its nemeses and workload work unchanged (``single``,
    ``replicated``, ``cluster``); a run on another is listed as not applicable.
    """

    name: str
    description: str
    workload: Workload = field(default_factory=Workload)
    nemeses: tuple[Nemesis, ...] = ()
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    expectations: Mapping[str, tuple[Expect, ...]] = field(
        default_factory=lambda: dict(STANDARD_EXPECTATIONS)
    )
    checkers: Mapping[str, Checker] = field(default_factory=lambda: dict(DEFAULT_CHECKERS))
    configs: tuple[str, ...] = ALL_AOF_CONFIGS
    topologies: tuple[str, ...] = (SINGLE,)
    default_config: str = "aof=everysec"
    drain_timeout_s: float = 20.0
    quick_factor: float = 0.5
    quick_version: QuickVersion | None = None

    def quick(self) -> Scenario:
        shorter = self.quick_version
        if shorter is None:
            return dataclasses.replace(self, workload=self.workload.scaled(self.quick_factor))
        return dataclasses.replace(
            self,
            workload=shorter.workload or self.workload.scaled(self.quick_factor),
            nemeses=self.nemeses if shorter.nemeses is None else shorter.nemeses,
            expectations=self.expectations
            if shorter.expectations is None
            else shorter.expectations,
            quick_version=None,
        )

    def with_user_handlers(
        self, spec: str, kinds: tuple[TaskKind, ...], python_path: tuple[str, ...]
    ) -> Scenario:
        """This test with an application's handlers (``MODULE:ATTR``) running ``kinds``.

        An empty ``kinds`` keeps the workload's own kinds (a scenario file may name them).
        """
        workload = dataclasses.replace(self.workload, kinds=kinds) if kinds else self.workload
        cluster = dataclasses.replace(self.cluster, user_handlers=spec, python_path=python_path)
        shorter = self.quick_version
        if shorter is not None and shorter.workload is not None and kinds:
            shorter = dataclasses.replace(
                shorter, workload=dataclasses.replace(shorter.workload, kinds=kinds)
            )
        return dataclasses.replace(self, workload=workload, cluster=cluster, quick_version=shorter)

    def __post_init__(self) -> None:
        unknown = [t for t in self.topologies if t not in TOPOLOGIES]
        if unknown or not self.topologies:
            raise ValueError(
                f"{self.name}: topologies are {', '.join(TOPOLOGIES)}, not {unknown or '()'}"
            )

    def with_worker_module(self, module: str) -> Scenario:
        return dataclasses.replace(
            self, cluster=dataclasses.replace(self.cluster, worker_module=module)
        )


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded."""


def load_scenario(path: Path) -> Scenario:
    """Import a scenario file and return its ``SCENARIO``."""
    spec = importlib.util.spec_from_file_location(f"chaos_scenario_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scenario = getattr(module, "SCENARIO", None)
    if not isinstance(scenario, Scenario):
        raise ScenarioError(f"{path}: defines no SCENARIO = Scenario(...)")
    return scenario


def discover(directory: Path) -> list[Path]:
    """Scenario files in ``directory`` (``*.py`` not starting with ``_``), sorted by name."""
    return sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))


BUILTIN_SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def builtin_names() -> list[str]:
    """The names of the scenarios that ship with duetime (``kill_workers``, ...)."""
    return [p.stem for p in discover(BUILTIN_SCENARIOS)]


def find_scenario(name_or_path: str | Path) -> Path:
    """A scenario file: ``name_or_path`` if it is a file, else the built-in of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if path.suffix == ".py" or len(path.parts) > 1:
        raise ScenarioError(f"no such scenario file: {path}")
    builtin = BUILTIN_SCENARIOS / f"{path.name}.py"
    if not builtin.is_file() or path.name.startswith("_"):
        raise ScenarioError(
            f"no scenario named {path.name!r}: give a scenario file, or one of "
            + ", ".join(builtin_names())
        )
    return builtin
