"""Settings, grouped and frozen. Each default is a named constant with its reason."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from . import validation
from .errors import InvalidInput

# Five tries ride out a restart or a short outage of what a handler calls, without
# turning a broken task into a hot loop (arq uses five too).
DEFAULT_MAX_ATTEMPTS = 5
# The first retry comes after about a second, doubling up to ten minutes.
DEFAULT_BACKOFF_BASE_S = 1.0
DEFAULT_BACKOFF_CAP_S = 600.0
# Large payloads belong in object storage; a megabyte keeps one task from filling Redis.
DEFAULT_MAX_PAYLOAD_BYTES = 1 << 20
# A finished task's record stays this long, for get() and stats() to show.
DEFAULT_DONE_RETENTION_S = 24 * 3600.0
# Dead letters wait a week for someone to look at them, then expire.
DEFAULT_DEAD_RETENTION_S = 7 * 24 * 3600.0
# A worker that dies is noticed after this long; long tasks renew it while they run.
DEFAULT_LEASE_S = 30.0
# Records past their retention are trimmed by every ack, burial and cancel, at most this
# many (or twice the batch) per call, so finished records expire without a scan or a
# long-running script.
TRIM_PER_CALL = 100


# Each setting is checked when constructed (InvalidInput), never at first use: a bad
# value found by a worker thread would kill it far from the line that set it.


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing task is tried, and how long to wait between tries.

    The delay before retry ``n`` (``n`` = 1 after the first failure) is
    ``min(cap, base * 2 ** (n - 1))`` scaled by a random factor in [0.5, 1]
    ("equal jitter"), so retries of many tasks that failed together spread out.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_cap_s: float = DEFAULT_BACKOFF_CAP_S

    def __post_init__(self) -> None:
        validation.max_attempts(self.max_attempts)
        validation.duration_s("backoff_base_s", self.backoff_base_s)
        validation.duration_s("backoff_cap_s", self.backoff_cap_s)
        if self.backoff_base_s > self.backoff_cap_s:
            raise InvalidInput(
                f"backoff_base_s ({self.backoff_base_s}) must not exceed "
                f"backoff_cap_s ({self.backoff_cap_s})"
            )

    def delay_s(self, failed_attempt: int, rng: random.Random) -> float:
        raw = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** max(0, failed_attempt - 1))
        return raw * rng.uniform(0.5, 1.0)


@dataclass(frozen=True)
class Retention:
    """How long finished and dead records are kept before they expire."""

    done_s: float = DEFAULT_DONE_RETENTION_S
    dead_s: float = DEFAULT_DEAD_RETENTION_S

    def __post_init__(self) -> None:
        validation.duration_s("done_s", self.done_s)
        validation.duration_s("dead_s", self.dead_s)


@dataclass(frozen=True)
class Limits:
    """Bounds on what a producer may write."""

    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    def __post_init__(self) -> None:
        validation.count(
            "max_payload_bytes", self.max_payload_bytes, 2, validation.MAX_PAYLOAD_LIMIT
        )


# A replica or an fsync that has not confirmed a write in this long is taken as lagging.
DEFAULT_DURABILITY_TIMEOUT_S = 2.0
# WAITAOF is asked again this often: a replica answers with what it had fsynced when the
# primary asked, and left alone it answers again only a second later.
DURABILITY_POLL_S = 0.05


@dataclass(frozen=True)
class Durability:
    """When ``schedule_task`` and ``schedule_many`` may return.

    - ``Durability()`` (the default): once the primary has the write, as before.
    - ``Durability(replicas=n)``: once ``n`` replicas have it too (``WAIT n``).
    - ``Durability(fsync=True, replicas=n)``: once the primary has it in its AOF on disk
      and ``n`` replicas have it in theirs (``WAITAOF 1 n``; Redis 7.2+ and Valkey, with
      ``appendonly yes``).

    A write not confirmed within ``timeout_s`` raises :class:`NotDurable`, which carries
    the task ids: retrying with them is safe. Claims, acks and the other worker calls are
    not waited for: a claim or an ack a failover loses means a task runs again, never
    that it is lost (README, "Scaling out").
    """

    replicas: int = 0
    fsync: bool = False
    timeout_s: float = DEFAULT_DURABILITY_TIMEOUT_S

    def __post_init__(self) -> None:
        validation.count("replicas", self.replicas, 0, 1000)
        if not isinstance(self.fsync, bool):
            raise InvalidInput(f"fsync must be True or False, not {self.fsync!r}")
        validation.duration_s("timeout_s", self.timeout_s)

    @property
    def waits(self) -> bool:
        return self.fsync or self.replicas > 0

    def command(self, wait_s: float) -> tuple[str | int, ...]:
        """The command that waits up to ``wait_s``, on the connection that made the write."""
        ms = max(1, int(wait_s * 1000))
        if self.fsync:
            return ("WAITAOF", 1, self.replicas, ms)
        return ("WAIT", self.replicas, ms)

    def met(self, reply: Any) -> bool:
        """Whether the reply to :meth:`command` confirms the write."""
        if self.fsync:
            return int(reply[0]) >= 1 and int(reply[1]) >= self.replicas
        return int(reply) >= self.replicas

    @property
    def label(self) -> str:
        if self.fsync:
            return f"WAITAOF 1 {self.replicas}"
        return f"WAIT {self.replicas}" if self.replicas else "none"
