"""Settings, grouped and frozen. Each default is a named constant with its reason."""

from __future__ import annotations

import random
from dataclasses import dataclass

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
