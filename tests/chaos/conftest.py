"""Fixtures of the chaos tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import pytest
from history_builder import HistoryBuilder
from replication_helpers import link_up, wait_until

from duetime.chaos.system.redis_server import Persistence, RedisNotFound, RedisServer

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
