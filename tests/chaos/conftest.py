"""Fixtures of the chaos tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from history_builder import HistoryBuilder

from duetime.chaos.system.redis_server import Persistence, RedisNotFound
from duetime.chaos.system.sentinel_group import SentinelGroup


@pytest.fixture
def hb() -> HistoryBuilder:
    """An empty history to fill in with readable calls."""
    return HistoryBuilder()


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
