"""Peer links (real redis-server, Sentinels and the embedded Toxiproxy): every
replication and Sentinel connection goes through the proxy of the node it reaches.
What a cut link cuts is tested with the nemesis (test_nemesis_partition_primary)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from duetime.chaos.system.redis_server import RedisServer
from duetime.chaos.system.sentinel_group import SentinelGroup


def replication(server: RedisServer) -> dict[str, Any]:
    with server.client(socket_timeout=2, decode_responses=True) as client:
        return {str(k): v for k, v in client.info("replication").items()}


def eventually(what: str, probe: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_nodes_and_sentinels_know_each_other_only_by_peer_links(
    linked_group: SentinelGroup,
) -> None:
    primary = linked_group.primary()
    assert linked_group.links is not None
    listed = replication(primary)
    reported = {int(listed[f"slave{i}"]["port"]) for i in range(linked_group.replicas)}
    replicas = linked_group.servers[1:]
    assert reported == {linked_group.address(r)[1] for r in replicas}
    assert not reported & {r.port for r in replicas}
    for replica in replicas:
        assert int(replication(replica)["master_port"]) == linked_group.address(primary)[1]
    for watcher in linked_group.watchers:
        addr = watcher.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", linked_group.service)
        assert (addr[0], int(addr[1])) == linked_group.address(primary)
        for replica in watcher.call("SENTINEL", "REPLICAS", linked_group.service):
            assert int(replica["port"]) in reported
    with linked_group.client(socket_timeout=5) as client:
        assert client.connection_pool.connection_kwargs.get("port") is None  # via Sentinel
        client.set("through-links", "1")
        assert client.execute_command("WAIT", 2, 5000) == 2


def test_a_cut_link_stops_replication_but_not_a_direct_client(
    linked_group: SentinelGroup,
) -> None:
    # Checked within Sentinel's down-after (2 s), before it promotes anything: after a
    # promotion the replicas would have left the old primary whatever the cut did.
    primary = linked_group.primary()
    assert linked_group.links is not None
    replicas = linked_group.servers[1:]
    with primary.client(socket_timeout=5) as direct:
        linked_group.links.cut(primary)
        try:
            for replica in replicas:
                eventually(
                    "the replica to lose its primary",
                    lambda r=replica: replication(r)["master_link_status"] == "down",
                    timeout_s=0.5,
                )
            assert direct.set("alone", "1")
            assert direct.execute_command("WAIT", 1, 200) == 0
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(linked_group.address(primary), timeout=2).close()
        finally:
            linked_group.links.restore(primary)
        assert direct.execute_command("WAIT", 2, 5000) == 2  # healed: replication resumes
    for replica in replicas:
        with replica.client(socket_timeout=2) as client:
            assert client.get("alone") == b"1"


@pytest.mark.parametrize("linked_group", [1], indirect=True)
def test_min_replicas_to_write_makes_a_cut_primary_refuse_writes(
    linked_group: SentinelGroup,
) -> None:
    primary = linked_group.primary()
    assert linked_group.links is not None
    with primary.client(socket_timeout=5) as direct:
        assert direct.set("with-replicas", "1")
        linked_group.links.cut(primary)
        eventually(
            "the primary to lose its replicas",
            lambda: int(replication(primary)["connected_slaves"]) == 0,
        )
        with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
            direct.set("alone", "1")
        assert direct.get("alone") is None


@pytest.mark.slow
def test_after_a_failover_the_nodes_still_reach_each_other_through_peer_links(
    linked_group: SentinelGroup,
) -> None:
    old = linked_group.primary()
    new = linked_group.failover_by_kill()
    assert new is not old
    for server in linked_group.servers:
        if server is not new and server.running:
            link = replication(server)
            assert int(link["master_port"]) == linked_group.address(new)[1]
    listed = replication(new)
    ports = {int(listed[f"slave{i}"]["port"]) for i in range(int(listed["connected_slaves"]))}
    assert ports and ports <= {linked_group.address(s)[1] for s in linked_group.servers}
