"""The runner: interprets a scenario against a real cluster and stores what happened.

Order: start redis-server, set up nemeses, start workers and cron schedulers,
run producers and the nemesis schedules together (the load phase), heal every
fault, stop the cron schedulers, drain until nothing is left to run (or the
drain timeout), stop everything, then check the history and write the run
folder. Every process is stopped on the way out, also on Ctrl-C or an error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from duetime import Scheduler
from duetime.chaos.checker import run_checkers
from duetime.chaos.checker.expectations import evaluate, expectations_for
from duetime.chaos.checker.verdict import GOOD, run_verdict
from duetime.chaos.client.fail_plan import write_fail_plan
from duetime.chaos.client.handlers import TASK_TYPE
from duetime.chaos.client.producer import Producer, start_producers
from duetime.chaos.designs import REFERENCE, Design, DesignClient, open_client
from duetime.chaos.designs.data_faults import FULL_REFUSALS, open_evicting_client
from duetime.chaos.designs.reference import ReferenceClient
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.host_clock import HostClockWatch
from duetime.chaos.history.ops import CRON_SCHEDULE, PHASE
from duetime.chaos.history.sink import EventSink
from duetime.chaos.history.sink_reader import read_sink
from duetime.chaos.history.store import SINK_DIR, new_run_dir, save_history, save_results
from duetime.chaos.nemesis import Nemesis, NemesisContext, NemesisUnavailable
from duetime.chaos.nemesis.driver import NemesisDriver
from duetime.chaos.report.live import LiveView, Progress
from duetime.chaos.report.markdown import write_report
from duetime.chaos.system.backends import DEFAULT_BACKEND, make_backend
from duetime.chaos.system.cluster import CRON_ROLE, WORKER_ROLE, Cluster
from duetime.chaos.system.redis_server import Persistence
from duetime.chaos.system.run_config import CLUSTER, CLUSTER_SHARDS, RunConfig, shard_options

from .scenario import Scenario

POLL_S = 0.2
# Workers need about a second to import and connect before the first task is due.
STARTUP_S = 1.0
# Nothing pending for this long ends the drain.
SETTLE_S = 1.0
# A producer retries an indeterminate schedule call until this long after its due time.
PRODUCER_GIVE_UP_S = 10.0
WORKER_STOP_GRACE_S = 5.0


class RunObserver(Protocol):
    """Receives progress while a run is going (the CLI draws it)."""

    def phase(self, name: str, expected_s: float | None) -> None: ...

    def update(self, elapsed_s: float, progress: Progress, faults: Sequence[str]) -> None: ...


class SilentObserver:
    """An observer that shows nothing."""

    def phase(self, name: str, expected_s: float | None) -> None:
        pass

    def update(self, elapsed_s: float, progress: Progress, faults: Sequence[str]) -> None:
        pass


@dataclass(frozen=True)
class RunRequest:
    """One run: a scenario under one configuration and seed; ``command`` reproduces it.

    ``backend`` names where Redis and Toxiproxy run (``duetime.chaos.system.backends``); ``design``
    is the scheduling design under test (``--strategy``; ``duetime.chaos.designs``).
    ``run_config`` adds the topology, server and durability to ``persistence`` (None:
    one default redis-server); ``cluster_shards`` is the namespace's shard count on
    ``topology=cluster``.
    """

    scenario: Scenario
    persistence: Persistence
    seed: int
    out_root: Path
    command: str
    backend: str = DEFAULT_BACKEND
    design: Design = REFERENCE
    run_config: RunConfig | None = None
    cluster_shards: int = CLUSTER_SHARDS

    @property
    def config(self) -> RunConfig:
        return self.run_config or RunConfig(self.persistence)


@dataclass(frozen=True)
class RunOutcome:
    run_dir: Path
    results: dict[str, Any]

    @property
    def passed(self) -> bool:
        return bool(self.results.get("passed"))


def run_scenario(request: RunRequest, observer: RunObserver | None = None) -> RunOutcome:
    """Run one scenario end to end and return where its folder is and what it found."""
    return _Run(request, observer or SilentObserver()).execute()


class _Skipped(Exception):
    """No configured fault can be injected here: the run would test nothing."""


class _Run:
    def __init__(self, request: RunRequest, observer: RunObserver) -> None:
        self.request = request
        self.scenario = request.scenario
        self.observer = observer
        # Before the run folder exists: an unavailable backend leaves nothing behind.
        backend = make_backend(request.backend)
        self.design = request.design
        self.config = request.config
        self.run_dir = new_run_dir(
            request.out_root, self._run_name(), self.config.label, request.seed
        )
        self.sink_dir = self.run_dir / SINK_DIR
        self.clock = TestbedClock.anchored_now()
        self.recorder = EventSink(self.sink_dir / "runner.jsonl", "runner", self.clock)
        self.host_clock = HostClockWatch(self.recorder)
        self.live = LiveView(self.sink_dir)
        self.cluster = Cluster(
            settings=self.scenario.cluster,
            persistence=request.persistence,
            run_dir=self.run_dir,
            sink_dir=self.sink_dir,
            clock=self.clock,
            recorder=EventSink(self.sink_dir / "cluster.jsonl", "cluster", self.clock),
            cron=self.scenario.workload.cron,
            backend=backend,
            producers=self.scenario.workload.producers,
            design=self.design,
            config=self.config,
            cluster_shards=request.cluster_shards,
        )
        self.producer_stop = threading.Event()
        self.nemesis_stop = threading.Event()
        self.driver: NemesisDriver | None = None
        self.nemeses: list[Nemesis] = []
        # Every nemesis whose before_start ran, available or not: each gets its teardown.
        self.prepared: list[Nemesis] = []
        self.skipped: dict[str, str] = {}
        self.skip_reason = ""
        self.producer_threads: list[threading.Thread] = []
        self.producer_crashes: list[str] = []
        self.phases: dict[str, float] = {}
        self.final_stats: dict[str, Any] | None = None
        self.clients: list[DesignClient] = []
        self.started = time.time()

    def _run_name(self) -> str:
        if self.design is REFERENCE:
            return self.scenario.name
        return f"{self.scenario.name}-{self.design.name}"

    # -- the run -------------------------------------------------------------

    def execute(self) -> RunOutcome:
        status, error = "completed", ""
        self.host_clock.start()
        try:
            self._drive()
        except _Skipped as exc:
            status, self.skip_reason = "skipped", str(exc)
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except BaseException:
            status, error = "crashed", traceback.format_exc()
            raise
        finally:
            self._shutdown()
            self.host_clock.stop()
            outcome = self._finish(status, error)
        return outcome

    def _client(self, url: str, *, producer: bool = False) -> DesignClient:
        """A client of the design under test on ``url``, closed when the run ends.
        A producer's waits for the run's durability."""
        namespace = self.scenario.cluster.namespace
        client: DesignClient | None = None
        if self.design is REFERENCE and (
            self.cluster.shards > 1 or not self.config.is_default_topology
        ):
            durability = self.config.producer_durability() if producer else None
            client = ReferenceClient(
                Scheduler.from_url(
                    url,
                    namespace=namespace,
                    allow_eviction=self.request.persistence.evicts,
                    durability=durability,
                    **shard_options(self.cluster.shards),
                )
            )
        elif self.request.persistence.evicts:
            client = open_evicting_client(self.design.name, url, namespace)
        if client is None:
            client = open_client(self.design, url, namespace)
        self.clients.append(client)
        return client

    def _slot_of(self, client: DesignClient) -> Callable[[str], int] | None:
        """On a Redis Cluster, how the producers learn a task's slot (the reference
        scheduler's key layout; other designs do not run on a Cluster)."""
        if self.config.topology == CLUSTER and isinstance(client, ReferenceClient):
            return client.slot_of
        return None

    def _drive(self) -> None:
        workload = self.scenario.workload
        self.prepared = list(self.scenario.nemeses)
        self._setup_nemeses(self.scenario.nemeses, lambda n: n.before_start(self.cluster))
        self._skip_if_nothing_to_inject()
        self.cluster.start_redis()
        self._setup_nemeses(list(self.nemeses), lambda n: n.setup(self.cluster))
        self._skip_if_nothing_to_inject()
        for spec in self.cluster.cron:
            self.recorder.record("info", CRON_SCHEDULE, dataclasses.asdict(spec))
        plan = workload.plan(random.Random(f"{self.request.seed}:workload"))
        # Before any worker starts: wrapped application handlers read it on their first run.
        write_fail_plan(self.sink_dir, plan)
        self.cluster.start_processes()

        load_start = self.clock.now() + STARTUP_S
        self._phase("load", workload.span + STARTUP_S, at=load_start)
        clients = [
            self._client(self.cluster.url_for(f"producer-{i}"), producer=True)
            for i in range(workload.producers)
        ]
        producers = [
            Producer(
                scheduler=client,
                plan=[p for p in plan if p.producer == i],
                sink=EventSink(self.sink_dir / f"producer-{i}.jsonl", f"producer-{i}", self.clock),
                run_start=load_start,
                task_type=TASK_TYPE,
                rejected=(*client.rejected, *FULL_REFUSALS.get(self.design.name, ())),
                give_up_after=PRODUCER_GIVE_UP_S,
                stop=self.producer_stop,
                slot_of=self._slot_of(client),
            )
            for i, client in enumerate(clients)
        ]
        self.producer_threads = start_producers(producers, self._producer_crashed)
        self.driver = NemesisDriver(
            self.nemeses,
            context=NemesisContext(
                self.cluster, self.live, random.Random(self.request.seed), self.nemesis_stop
            ),
            recorder=EventSink(self.sink_dir / "nemesis.jsonl", "nemesis", self.clock),
            seed=self.request.seed,
            load_start=load_start,
            load_s=workload.span,
        )
        self.driver.start()
        load_end = load_start + workload.span
        while self.clock.now() < load_end or any(t.is_alive() for t in self.producer_threads):
            self._tick()

        self._phase("heal", None)
        self.driver.stop_and_heal_all()
        self.cluster.stop_role(CRON_ROLE)
        self._phase("drain", self.scenario.drain_timeout_s)
        self._drain(self._client(self.cluster.client_url))
        self._phase("stop", None)

    def _drain(self, client: DesignClient) -> None:
        """Wait until the design has nothing left and no handler runs, or the timeout."""
        deadline = self.clock.now() + self.scenario.drain_timeout_s
        quiet_since: float | None = None
        while self.clock.now() < deadline:
            self._tick()
            try:
                backlog = client.backlog()
                pending = sum(backlog.values())
                self.final_stats = dict(backlog)
            except Exception:  # Redis still unreachable: judge by the history so far
                pending = self.live.progress().acked_pending
            if pending == 0 and not self._handlers_running():
                quiet_since = quiet_since or self.clock.now()
                if self.clock.now() - quiet_since >= SETTLE_S:
                    return
            else:
                quiet_since = None
        self.recorder.record("info", PHASE, {"phase": "drain-timeout"})

    def _handlers_running(self) -> bool:
        return any(
            self.live.running_in(n, self.cluster.started_at(n))
            for n in self.cluster.names(WORKER_ROLE)
            if self.cluster.alive(n)
        )

    def _tick(self) -> None:
        time.sleep(POLL_S)
        self.cluster.note_exits()
        self.live.refresh()
        faults = self.driver.active() if self.driver else []
        self.observer.update(time.time() - self.started, self.live.progress(), faults)

    def _phase(self, name: str, expected_s: float | None, at: float | None = None) -> None:
        self.phases[name] = at if at is not None else self.clock.now()
        self.recorder.record("info", PHASE, {"phase": name})
        self.observer.phase(name, expected_s)

    def _setup_nemeses(
        self, candidates: Sequence[Nemesis], hook: Callable[[Nemesis], None]
    ) -> None:
        """Run one setup hook of each nemesis; keep those that are available."""
        self.nemeses = []
        for nemesis in candidates:
            try:
                hook(nemesis)
            except NemesisUnavailable as exc:
                self.skipped[nemesis.name] = str(exc)
                self.recorder.record(
                    "info", "nemesis-skipped", {"fault": nemesis.name, "reason": str(exc)}
                )
                continue
            self.nemeses.append(nemesis)

    def _skip_if_nothing_to_inject(self) -> None:
        if self.scenario.nemeses and not self.nemeses:
            reasons = "; ".join(
                why if why.startswith(name) else f"{name}: {why}"
                for name, why in self.skipped.items()
            )
            raise _Skipped(f"no fault of this scenario can be injected here ({reasons})")

    def _producer_crashed(self, exc: BaseException) -> None:
        self.producer_crashes.append("".join(traceback.format_exception(exc)))

    def _shutdown(self) -> None:
        # A second Ctrl-C must not cut the cleanup short and leave processes behind.
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
        try:
            self.producer_stop.set()
            self.nemesis_stop.set()
            try:
                if self.driver is not None:
                    self.driver.stop_and_heal_all()
            finally:
                self.cluster.stop()
                for nemesis in self.prepared:
                    try:
                        nemesis.teardown(self.cluster)
                    except Exception:
                        self.recorder.record(
                            "info",
                            "nemesis-error",
                            {"fault": nemesis.name, "error": traceback.format_exc()[-2000:]},
                        )
                for t in self.producer_threads:
                    t.join(timeout=WORKER_STOP_GRACE_S)
                for client in self.clients:
                    with contextlib.suppress(Exception):
                        client.close()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    # -- results -------------------------------------------------------------

    def _untested(self) -> list[str]:
        """What the scenario meant to test and did not: a fault that never happened."""
        injected = self.driver.report.injected if self.driver else {}
        untested = [
            f"nemesis {n.name} injected no fault: the run did not test it"
            for n in self.nemeses
            if not injected.get(n.name)
        ]
        return untested + [f"nemesis {name} skipped: {why}" for name, why in self.skipped.items()]

    def _warnings(self) -> list[str]:
        """Things that make a pass weaker: a fault that never happened, a nemesis error."""
        warnings = self._untested()
        if self.driver is not None and self.driver.report.errors:
            warnings.append(f"{len(self.driver.report.errors)} nemesis errors (see report)")
        return warnings

    def _finish(self, status: str, error: str) -> RunOutcome:
        history = read_sink(self.sink_dir)
        save_history(self.run_dir, history)
        # history.jsonl now holds every line of the sink; keep one copy only.
        shutil.rmtree(self.sink_dir, ignore_errors=True)
        results: dict[str, Any] = {
            "run_id": self.run_dir.name,
            "scenario": self.scenario.name,
            "strategy": self.design.name,
            "description": self.scenario.description,
            "config": self.config.label,
            "topology": self.config.topology,
            "server": self.config.server,
            "durability": self.config.durability,
            "seed": self.request.seed,
            "command": self.request.command,
            "backend": self.request.backend,
            "status": status,
            "error": error,
            "skip_reason": self.skip_reason,
            "started_at": self.started,
            "duration_s": round(time.time() - self.started, 3),
            "phases": self.phases,
            "clock_offset": self.clock.offset,
            "redis": {
                "binary": self.cluster.redis.binary,
                "version": ".".join(map(str, self.cluster.redis.version)),
            },
            "cluster": {
                **dataclasses.asdict(self.scenario.cluster),
                "cron_schedulers": self.cluster.cron_processes,
            },
            "workload": dataclasses.asdict(self.scenario.workload),
            "nemeses": {
                "configured": [n.name for n in self.scenario.nemeses],
                "skipped": self.skipped,
                "injected": self.driver.report.injected if self.driver else {},
                "errors": self.driver.report.errors if self.driver else [],
                "heal_failures": self.driver.report.heal_failures if self.driver else [],
            },
            "producer_crashes": self.producer_crashes,
            # A skipped run says why once, in skip_reason.
            "warnings": [] if status == "skipped" else self._warnings(),
            "stats_at_end": self.final_stats,
            "history_ops": len(history),
        }
        if status == "completed":
            checks = run_checkers(self.scenario.checkers, history)
            # A published design is measured, not judged: only the reference has promises.
            expected = (
                expectations_for(self.scenario.expectations, self.config.label)
                if self.design.judged
                else {}
            )
            outcomes = evaluate(expected, checks)
            results["checkers"] = {name: r.to_dict() for name, r in checks.items()}
            results["expectations"] = [o.to_dict() for o in outcomes]
        else:
            outcomes = []
            results["checkers"], results["expectations"] = {}, []
        broken = [f"a fault was not healed: {h}" for h in results["nemeses"]["heal_failures"]]
        if self.producer_crashes:
            broken.append("a producer crashed (see producer_crashes)")
        verdict, reasons = run_verdict(
            status, outcomes, judged=self.design.judged, untested=self._untested(), broken=broken
        )
        results["verdict"], results["verdict_reasons"] = verdict, reasons
        results["passed"] = verdict in GOOD
        save_results(self.run_dir, results)
        write_report(self.run_dir, results, history)
        return RunOutcome(self.run_dir, results)
