"""Waiting for the moment ``appendfsync everysec`` holds acknowledged writes only in memory.

From reading Redis's ``aof.c`` (see FACTS.md): while a background fsync is still
running, Redis postpones the ``write(2)`` of its AOF buffer for up to 2 seconds but
keeps replying. Once the limit is hit it writes anyway, counts ``aof_delayed_fsync``
and logs "Asynchronous AOF fsync is taking too long". A few tenths of a second
into the next fsync, Redis is postponing again: acknowledged writes then live in
its buffer only, and a SIGKILL loses them. This module waits for that moment.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from duetime.chaos.system.powerfs import PowerLossFS

POLL_S = 0.02
INFO_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Aim:
    """Whether the moment was found (``aimed``), what was seen, and in words."""

    aimed: bool
    note: str
    observed: dict[str, Any] = field(default_factory=dict)


def aof_fsync_age(fs: PowerLossFS) -> float | None:
    """How long the oldest fsync of an AOF file has been running, if one is."""
    ages = [s.age_s for s in fs.stats().syncing if ".aof" in s.path]
    return max(ages) if ages else None


def wait_for_postponed_writes(
    redis_url: str,
    fs: PowerLossFS,
    *,
    aim_s: tuple[float, float],
    timeout_s: float,
    stop: threading.Event,
) -> Aim:
    """Wait until Redis has hit its postponement limit once and a new AOF fsync is
    ``aim_s`` old; give up after ``timeout_s`` or when ``stop`` is set."""
    deadline = time.monotonic() + timeout_s
    client = redis.Redis.from_url(redis_url, socket_timeout=INFO_TIMEOUT_S)
    try:
        baseline = _delayed_fsyncs(client)
        while _delayed_fsyncs(client) <= baseline:
            if stop.wait(0.1) or time.monotonic() > deadline:
                return Aim(False, f"Redis did not hit its 2 s write postponement in {timeout_s} s")
        while True:
            age = aof_fsync_age(fs)
            if age is not None and aim_s[0] <= age <= aim_s[1]:
                break
            if stop.wait(POLL_S) or time.monotonic() > deadline:
                return Aim(False, f"no new AOF fsync began within {timeout_s} s")
        info = client.info("persistence")
    except redis.RedisError as exc:
        return Aim(False, f"could not watch Redis: {exc!r}")
    finally:
        client.close()
    return Aim(
        True,
        f"struck {age:.2f} s into an AOF fsync, after Redis had postponed writes",
        {
            "fsync_age_s": round(age, 3),
            "aof_delayed_fsync": int(info.get("aof_delayed_fsync", 0)),
            "aof_buffer_length": int(info.get("aof_buffer_length", 0)),
        },
    )


def _delayed_fsyncs(client: redis.Redis) -> int:
    return int(client.info("persistence").get("aof_delayed_fsync", 0))
