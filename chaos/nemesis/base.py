"""What every nemesis is: a fault schedule, ``inject`` returning a healable fault, hooks.

A nemesis is frozen configuration; what it did lives in the :class:`Fault` it
returns. Hooks let new kinds of fault plug in without touching the runner:
``before_start`` runs before redis-server starts (a power-loss nemesis can move
its data directory onto a FUSE filesystem), ``setup`` after it started and
before any worker or producer connects (a network nemesis can start a proxy and
point ``cluster.client_url`` at it), ``teardown`` after everything stopped.
"""

from __future__ import annotations

import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from duetime.chaos.report.live import LiveView
from duetime.chaos.system.cluster import Cluster


class NemesisUnavailable(RuntimeError):
    """This nemesis cannot run here (a tool is missing); the run skips it and says why."""


@dataclass(frozen=True)
class FaultSchedule:
    """When to inject: first at ``first_s``, then every ``every_s`` (+- ``jitter_s``),
    each fault held for a time drawn from ``hold_s`` before it is healed."""

    first_s: float = 3.0
    every_s: float = 6.0
    jitter_s: float = 1.0
    hold_s: tuple[float, float] = (0.5, 1.5)

    def times(self, rng: random.Random, until: float) -> list[float]:
        """Injection offsets (seconds after the load starts) that leave time to heal."""
        times = []
        t = self.first_s
        while t + self.hold_s[1] < until:
            times.append(round(max(0.0, t + rng.uniform(-self.jitter_s, self.jitter_s)), 3))
            t += self.every_s
        return times

    def hold(self, rng: random.Random) -> float:
        return rng.uniform(*self.hold_s)


@dataclass(frozen=True)
class NemesisContext:
    """What a nemesis may act on and look at."""

    cluster: Cluster
    live: LiveView
    rng: random.Random
    stop: threading.Event


@dataclass
class Fault:
    """An injected fault. ``targets`` are the process names it hit (empty: everyone).

    ``healer`` may return a dict of what healing found (e.g. when a demoted primary
    rejoined); it goes into the history's ``fault-end`` op."""

    targets: tuple[str, ...]
    detail: dict[str, Any]
    healer: Callable[[], dict[str, Any] | None]
    healed: bool = field(default=False)

    def heal(self) -> dict[str, Any] | None:
        if self.healed:
            return None
        self.healed = True
        return self.healer()


@dataclass(frozen=True)
class Nemesis(ABC):
    """A kind of fault. Subclasses set ``name`` and implement ``inject``."""

    schedule: FaultSchedule = field(default_factory=FaultSchedule)

    @property
    @abstractmethod
    def name(self) -> str: ...

    def before_start(self, cluster: Cluster) -> None:  # noqa: B027 (optional hook)
        """Runs before redis-server starts: e.g. put ``cluster.redis.data_dir`` on a
        filesystem that can lose unsynced writes (a power-loss nemesis)."""

    def setup(self, cluster: Cluster) -> None:  # noqa: B027 (optional hook)
        """Check prerequisites (raise :class:`NemesisUnavailable`) or prepare the cluster."""

    def teardown(self, cluster: Cluster) -> None:  # noqa: B027 (optional hook)
        """Undo ``setup``; called after every process stopped."""

    @abstractmethod
    def inject(self, ctx: NemesisContext) -> Fault | None:
        """Cause the fault now; None if there was nothing to hit."""
