"""What a failover did, seen from outside: which primary was struck, which replica was
promoted and when, and the replication offsets that tell how far behind it was.

Shared by :class:`~duetime.chaos.system.sentinel_group.SentinelGroup` and
:class:`~duetime.chaos.system.redis_cluster.LocalCluster`. Times come from the caller's
clock (the testbed's, in a run), so they line up with the history.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .redis_server import RedisServer, RedisStartError

Clock = Callable[[], float]


def no_retry() -> Retry:
    """For the testbed's own polls: redis-py retries a refused connection for ~4 s by
    default, which would make a dead node look slow instead of dead."""
    return Retry(NoBackoff(), 0)


# How a primary is struck: SIGKILL by default; a power loss drops its unsynced writes too.
Strike = Callable[[RedisServer], None]


@dataclass(frozen=True)
class Promotion:
    """One failover. ``struck_at``: just before the strike; ``promoted_at``: when the
    topology named ``promoted`` and it said ``role:master``. ``old_offset``: the struck
    primary's replication offset read just before the strike (a lower bound of what it
    had); ``promoted_offset``: how much of the old primary's stream the promoted replica
    had when it took over (``second_repl_offset - 1``). None when unreadable. ``slots``:
    the Cluster slot ranges the struck master served, as ``CLUSTER NODES`` listed them
    just before the strike; empty for a Sentinel group's primary, which holds every key."""

    old: RedisServer
    promoted: RedisServer
    struck_at: float
    promoted_at: float
    old_offset: int | None
    promoted_offset: int | None
    slots: tuple[tuple[int, int], ...] = ()

    @property
    def promotion_s(self) -> float:
        return self.promoted_at - self.struck_at


class Turns:
    """A lock granted in the order it was asked for (``threading.Lock`` is not): several
    nemeses striking one topology each get their turn, none starves."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()

    def __enter__(self) -> Turns:
        me = object()
        with self._cond:
            self._queue.append(me)
            self._cond.wait_for(lambda: self._queue[0] is me)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._queue.popleft()
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        """How many are queued, the holder included."""
        with self._cond:
            return len(self._queue)


@dataclass(frozen=True)
class Rejoin:
    """A struck node back as a replica of ``primary``, in sync at ``at``. ``primary`` is
    usually the promoted node; another if the topology failed over again meanwhile."""

    server: RedisServer
    primary: RedisServer
    at: float


@dataclass(frozen=True)
class Pause:
    """Replicas SIGSTOPped at ``paused_at``, with the offsets they had reached just before."""

    servers: tuple[RedisServer, ...]
    paused_at: float
    offsets: dict[str, int]

    def resume(self) -> None:
        for server in self.servers:
            server.resume()


def replication_info(server: RedisServer) -> dict[str, Any]:
    """``INFO replication`` of ``server``, parsed."""
    with server.client(socket_timeout=2, decode_responses=True, retry=no_retry()) as c:
        return {str(k): v for k, v in c.info("replication").items()}


def role(server: RedisServer) -> str:
    return str(replication_info(server).get("role"))


def offset(server: RedisServer) -> int | None:
    """The replication offset ``server`` has reached (a primary's or a replica's), or None
    when it does not answer."""
    with contextlib.suppress(redis.RedisError):
        info = replication_info(server)
        key = "master_repl_offset" if info.get("role") == "master" else "slave_repl_offset"
        return int(info.get(key, info.get("master_repl_offset", 0)))
    return None


def promoted_offset(server: RedisServer) -> int | None:
    """Up to which offset of its former primary's stream a promoted replica had data."""
    with contextlib.suppress(redis.RedisError, ValueError):
        return int(replication_info(server)["second_repl_offset"]) - 1
    return None


def pause(servers: Sequence[RedisServer], clock: Clock) -> Pause:
    """SIGSTOP ``servers``, noting the offset each had reached just before."""
    offsets = {s.host_port: off for s in servers if (off := offset(s)) is not None}
    paused_at = clock()
    for server in servers:
        server.pause()
    return Pause(tuple(servers), paused_at, offsets)


def replica_in_sync(
    replica: RedisServer, primary: RedisServer, address: tuple[str, int] | None = None
) -> bool:
    """``replica`` follows ``primary`` (at ``address``, its host and port by default: a
    peer link's otherwise) with its link up and has caught up with the offset ``primary``
    had when asked (under load the primary moves on meanwhile)."""
    info = replication_info(replica)
    following = (str(info.get("master_host")), int(info.get("master_port", 0)))
    if info.get("role") != "slave" or following != (address or (primary.host, primary.port)):
        return False
    if info.get("master_link_status") != "up":
        return False
    target = int(replication_info(primary)["master_repl_offset"])
    return int(replication_info(replica).get("slave_repl_offset", -1)) >= target


def wait_for(what: str, ready: Callable[[], bool], timeout: float) -> None:
    """Poll ``ready`` until it is true; a node that does not answer yet counts as not ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError, LookupError, OSError):
            if ready():
                return
        time.sleep(0.05)
    raise RedisStartError(f"timed out after {timeout:g} s waiting for {what}")


def strike_and_wait(
    old: RedisServer,
    strike: Strike,
    clock: Clock,
    promoted: Callable[[], RedisServer | None],
    timeout: float,
    slots: tuple[tuple[int, int], ...] = (),
) -> Promotion:
    """Strike ``old`` and wait until ``promoted()`` names its successor. If none comes,
    ``old`` is started again before the error is raised, so nothing is left down.
    ``slots``: the Cluster slots ``old`` served (``Promotion.slots``)."""
    old_offset = offset(old)
    struck_at = clock()
    strike(old)
    found: list[tuple[RedisServer, float]] = []

    def done() -> bool:
        new = promoted()
        if new is not None:
            found.append((new, clock()))
        return new is not None

    try:
        wait_for(f"a replica of {old.host_port} to be promoted", done, timeout)
    except BaseException:
        with contextlib.suppress(RedisStartError):
            old.start()
        raise
    new, promoted_at = found[-1]
    return Promotion(
        old, new, struck_at, promoted_at, old_offset, promoted_offset(new), slots=slots
    )
