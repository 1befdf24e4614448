"""redis-server processes: a run reads Redis's settings back and refuses a wrong config."""

from __future__ import annotations

import pytest

from duetime.chaos.system.redis_server import (
    MAXMEMORY_POLICIES,
    Persistence,
    RedisServer,
    read_settings,
)


@pytest.mark.parametrize("aof", ["off", "no", "everysec", "always"])
def test_a_server_runs_the_persistence_it_was_asked_for(aof: str) -> None:
    with RedisServer(Persistence(aof)) as server:
        settings = read_settings(server.url)
    assert Persistence(aof).mismatches(settings) == []


def test_a_server_that_runs_another_config_is_caught() -> None:
    # A later line of redis.conf overrides the persistence directives.
    with RedisServer(Persistence("always"), extra=["appendfsync everysec"]) as server:
        settings = read_settings(server.url)
    assert Persistence("always").mismatches(settings) == ["appendfsync is 'everysec', not 'always'"]


def test_every_persistence_difference_is_named() -> None:
    actual = {"appendonly": "yes", "appendfsync": "no", "save": "3600 1"}
    assert Persistence("off").mismatches(actual) == [
        "appendonly is 'yes', not 'no'",
        "save is '3600 1', not ''",
    ]


@pytest.mark.parametrize("policy", MAXMEMORY_POLICIES)
def test_a_server_runs_the_maxmemory_policy_it_was_asked_for(policy: str) -> None:
    asked = Persistence("everysec", maxmemory=policy)
    with RedisServer(asked) as server:
        settings = read_settings(server.url)
    assert settings["maxmemory-policy"] == policy
    assert asked.mismatches(settings) == []


def test_a_server_that_runs_another_maxmemory_policy_is_caught() -> None:
    asked = Persistence("everysec", maxmemory="noeviction")
    with RedisServer(asked, extra=["maxmemory-policy allkeys-lru"]) as server:
        settings = read_settings(server.url)
    assert asked.mismatches(settings) == ["maxmemory-policy is 'allkeys-lru', not 'noeviction'"]
