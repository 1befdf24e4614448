"""Runs each nemesis on its schedule in its own thread, and heals every fault on demand."""

from __future__ import annotations

import random
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from duetime.chaos.history.ops import FAULT_END, FAULT_START
from duetime.chaos.history.sink import EventSink

from .base import Fault, Nemesis, NemesisContext

JOIN_TIMEOUT_S = 30.0


@dataclass
class DriverReport:
    """What the nemeses did: faults injected, errors, and heals that failed."""

    injected: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    heal_failures: list[str] = field(default_factory=list)


class NemesisDriver:
    """Interprets nemesis schedules against a running cluster (the runner's fault half)."""

    def __init__(
        self,
        nemeses: Sequence[Nemesis],
        *,
        context: NemesisContext,
        recorder: EventSink,
        seed: int,
        load_start: float,
        load_s: float,
    ) -> None:
        self.nemeses = list(nemeses)
        self.context = context
        self.recorder = recorder
        self.seed = seed
        self.load_start = load_start
        self.load_s = load_s
        self.report = DriverReport()
        self._active: dict[str, tuple[str, Fault]] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._counter = 0

    def start(self) -> None:
        for i, nemesis in enumerate(self.nemeses):
            rng = random.Random(f"{self.seed}:{i}:{nemesis.name}")
            times = nemesis.schedule.times(rng, self.load_s)
            t = threading.Thread(
                target=self._run,
                args=(nemesis, rng, times),
                name=f"nemesis-{nemesis.name}",
                daemon=True,
            )
            self._threads.append(t)
            t.start()

    def active(self) -> list[str]:
        with self._lock:
            return sorted(name for name, _ in self._active.values())

    def stop_and_heal_all(self) -> None:
        """Stop injecting, wait for the threads, and heal whatever is still active."""
        self.context.stop.set()
        for t in self._threads:
            t.join(JOIN_TIMEOUT_S)
        with self._lock:
            leftover = list(self._active)
        for fault_id in leftover:
            self._heal(fault_id)

    def _run(self, nemesis: Nemesis, rng: random.Random, times: Sequence[float]) -> None:
        ctx = NemesisContext(self.context.cluster, self.context.live, rng, self.context.stop)
        stop = self.context.stop
        for offset in times:
            if stop.wait(max(0.0, self.load_start + offset - self.recorder.clock.now())):
                return
            try:
                fault = nemesis.inject(ctx)
            except Exception:
                self._error(nemesis.name, "inject")
                continue
            if fault is None:
                continue
            fault_id = self._register(nemesis.name, fault)
            stop.wait(nemesis.schedule.hold(rng))
            self._heal(fault_id)

    def _register(self, name: str, fault: Fault) -> str:
        with self._lock:
            self._counter += 1
            fault_id = f"{name}-{self._counter}"
            self._active[fault_id] = (name, fault)
            self.report.injected[name] = self.report.injected.get(name, 0) + 1
        self.recorder.record(
            "info",
            FAULT_START,
            {"fault": name, "fault_id": fault_id, "targets": list(fault.targets), **fault.detail},
        )
        return fault_id

    def _heal(self, fault_id: str) -> None:
        with self._lock:
            entry = self._active.pop(fault_id, None)
        if entry is None:
            return
        name, fault = entry
        detail: dict[str, Any] = {}
        try:
            detail = fault.heal() or {}
        except Exception:
            self.report.heal_failures.append(f"{fault_id}: {traceback.format_exc()}")
        self.recorder.record("info", FAULT_END, {**detail, "fault": name, "fault_id": fault_id})

    def _error(self, name: str, what: str) -> None:
        message = f"{name} {what} failed: {traceback.format_exc()}"
        with self._lock:
            self.report.errors.append(message)
        self.recorder.record("info", "nemesis-error", {"fault": name, "error": message[-2000:]})
