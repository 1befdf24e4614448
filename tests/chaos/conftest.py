"""Fixtures of the chaos tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import pytest
from history_builder import HistoryBuilder
from replication_helpers import link_up, wait_until

from duetime.chaos.system.redis_server import Persistence, RedisNotFound, RedisServer
from duetime.chaos.system.sentinel_group import SentinelGroup

# A primary syncs a replica at once, not after the default 5 s wait for others.
AT_ONCE = "repl-diskless-sync-delay 0"


@pytest.fixture
def hb() -> HistoryBuilder:
    """An empty history to fill in with readable calls."""
    return HistoryBuilder()


@pytest.fixture
def primary_with_replicas() -> Iterator[Callable[[int], tuple[RedisServer, list[RedisServer]]]]:
    """Starts a redis-server and ``n`` replicas of it (no persistence, no Sentinel: the
    test plays the failover by hand); every server is stopped at the end."""
    started: list[RedisServer] = []

    def start(n: int) -> tuple[RedisServer, list[RedisServer]]:
        try:
            primary = RedisServer(Persistence(aof="off"), extra=[AT_ONCE]).start()
        except RedisNotFound as exc:
            pytest.skip(str(exc))
        started.append(primary)
        replicas = []
        for _ in range(n):
            where = f"replicaof {primary.host} {primary.port}"
            replicas.append(RedisServer(Persistence(aof="off"), extra=[where, AT_ONCE]).start())
            started.append(replicas[-1])
        for r in replicas:
            wait_until(partial(link_up, r))
        return primary, replicas

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def linked_group(request: pytest.FixtureRequest) -> Iterator[SentinelGroup]:
    """A Sentinel group of the test's own whose nodes reach each other only through
    peer links (an embedded Toxiproxy); ``indirect`` param: ``min_replicas_to_write``."""
    try:
        group = SentinelGroup(
            persistence=Persistence(aof="off"),
            peer_links=True,
            min_replicas_to_write=getattr(request, "param", 0),
        )
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    with group:
        yield group
