"""The fault vocabulary of the search: which nemeses it may draw, and how to build one fault.

Each :class:`FaultKind` names a nemesis class exported by :mod:`duetime.chaos.nemesis`,
the keyword variants the search may pick from, how long a fault is held and
which *lanes* it occupies (two faults sharing a lane never overlap: there is one
redis-server to kill or to power off, one disk to slow down). Kinds whose
nemesis is not importable yet, or cannot run on this machine, are left out with
the reason (:func:`registry`). Adding a kind is one entry in :data:`KINDS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from duetime.chaos.nemesis import FaultSchedule, Nemesis, NemesisUnavailable

# A one-shot schedule: the next injection would fall long after any explored run.
ONCE_EVERY_S = 3600.0

Availability = Callable[[], "str | None"]
"""Returns None when the kind can run here, else why not."""


def _always() -> str | None:
    return None


def _clock_shim() -> str | None:
    from duetime.chaos.nemesis.clock import build_shim

    try:
        build_shim()
    except NemesisUnavailable as exc:
        return str(exc)
    return None


def _fuse() -> str | None:
    from duetime.chaos.system.powerfs import available

    ok, why = available()
    return None if ok else why


@dataclass(frozen=True)
class FaultKind:
    """A kind of fault: ``nemesis`` (a class name in :mod:`duetime.chaos.nemesis`) built with one
    of ``variants`` (keyword arguments) and held between ``hold_ds`` tenths of a second."""

    name: str
    nemesis: str
    lanes: tuple[str, ...]
    hold_ds: tuple[int, int]
    variants: tuple[Mapping[str, Any], ...] = ({},)
    needs_cron: bool = False
    available: Availability = field(default=_always, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.hold_ds[0] <= self.hold_ds[1]:
            raise ValueError(f"{self.name}: hold_ds must be (low, high) with 1 <= low <= high")
        if not self.variants or not self.lanes:
            raise ValueError(f"{self.name}: at least one variant and one lane")

    def nemesis_class(self) -> type[Nemesis] | None:
        found = getattr(importlib.import_module("duetime.chaos.nemesis"), self.nemesis, None)
        return found if isinstance(found, type) and issubclass(found, Nemesis) else None

    def build(self, at_s: float, hold_s: float, variant: int) -> Nemesis:
        """The nemesis that injects this fault once, at ``at_s``, for ``hold_s``."""
        cls = self.nemesis_class()
        if cls is None:
            raise LookupError(f"duetime.chaos.nemesis has no {self.nemesis}")
        schedule = FaultSchedule(
            first_s=at_s, every_s=ONCE_EVERY_S, jitter_s=0.0, hold_s=(hold_s, hold_s)
        )
        return cls(schedule=schedule, **self.variants[variant])


# Holds are chosen around the cluster the search runs (2 s leases, 5 s cron misfire
# grace): a pause longer than a lease makes another worker take over, a cron outage
# longer than the grace is a misfire. A slow disk fsyncs in 3 s: long enough for
# appendfsync everysec to postpone its writes past its 2 s limit.
SLOW_FSYNC_S = 3.0
_REDIS, _DISK = ("redis",), ("disk",)

KINDS: tuple[FaultKind, ...] = (
    FaultKind("kill_worker", "KillWorker", ("kill_worker",), hold_ds=(2, 15)),
    FaultKind("pause_worker", "PauseWorker", ("pause_worker",), hold_ds=(5, 50)),
    FaultKind(
        "clock_skew",
        "ClockSkew",
        ("clock_skew",),
        hold_ds=(10, 40),
        variants=({"shifts_s": (30.0,)}, {"shifts_s": (-30.0,)}),
        available=_clock_shim,
    ),
    FaultKind(
        "kill_cron",
        "KillCronSchedulers",
        ("kill_cron",),
        hold_ds=(5, 70),
        variants=({"all": True}, {"all": False}),
        needs_cron=True,
    ),
    FaultKind("kill_redis", "KillRedis", _REDIS, hold_ds=(2, 20)),
    FaultKind(
        "partition",
        "Partition",
        ("partition",),
        hold_ds=(5, 40),
        variants=(
            {"group": "workers"},
            {"group": "workers", "count": 1},
            {"group": "producers"},
            {"group": "producers", "stream": "downstream"},
            {"group": "clients", "how": "refuse"},
        ),
    ),
    FaultKind(
        "network_toxic",
        "NetworkToxic",
        ("network_toxic",),
        hold_ds=(5, 40),
        variants=(
            {"toxic": "latency", "attributes": (("latency", 200), ("jitter", 100))},
            {"toxic": "reset_peer", "attributes": (("timeout", 100),), "group": "workers"},
            {"toxic": "bandwidth", "attributes": (("rate", 8),)},
            {"toxic": "limit_data", "attributes": (("bytes", 4096),), "group": "producers"},
        ),
    ),
    FaultKind("power_loss", "PowerLoss", _REDIS, hold_ds=(2, 20), available=_fuse),
    FaultKind(
        "slow_disk",
        "SlowDisk",
        _DISK,
        hold_ds=(10, 50),
        variants=({"then": "none", "fsync_delay_s": SLOW_FSYNC_S},),
        available=_fuse,
    ),
    FaultKind(
        "slow_disk_kill",
        "SlowDisk",
        _DISK + _REDIS,
        hold_ds=(2, 20),
        variants=({"then": "kill", "fsync_delay_s": SLOW_FSYNC_S},),
        available=_fuse,
    ),
    FaultKind(
        "slow_disk_power_loss",
        "SlowDisk",
        _DISK + _REDIS,
        hold_ds=(2, 20),
        variants=({"then": "power_loss", "fsync_delay_s": SLOW_FSYNC_S},),
        available=_fuse,
    ),
)


@dataclass(frozen=True)
class Registry:
    """The kinds the search draws from here, and those it leaves out with the reason."""

    kinds: tuple[FaultKind, ...]
    left_out: Mapping[str, str]

    def __post_init__(self) -> None:
        names = [k.name for k in self.kinds]
        if len(set(names)) != len(names):
            raise ValueError(f"fault kind names must be unique: {names}")

    def get(self, name: str) -> FaultKind:
        for kind in self.kinds:
            if kind.name == name:
                return kind
        raise KeyError(f"no fault kind {name!r} here (have {', '.join(self.names)})")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.kinds)


def registry(
    candidates: Sequence[FaultKind] = KINDS, only: Sequence[str] | None = None
) -> Registry:
    """The candidates that can run here (restricted to ``only`` if given)."""
    unknown = set(only or ()) - {k.name for k in candidates}
    if unknown:
        raise ValueError(
            f"unknown fault kinds: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(k.name for k in candidates)})"
        )
    kinds, left_out = [], {}
    for kind in candidates:
        if only is not None and kind.name not in only:
            continue
        if kind.nemesis_class() is None:
            left_out[kind.name] = (
                f"duetime.chaos.nemesis has no {kind.nemesis} (not importable here yet)"
            )
            continue
        why = kind.available()
        if why is not None:
            left_out[kind.name] = why
            continue
        kinds.append(kind)
    return Registry(tuple(kinds), left_out)
