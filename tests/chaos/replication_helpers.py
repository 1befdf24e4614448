"""Playing a failover by hand on real servers: waiting, offsets, promotion."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from duetime.chaos.system.redis_server import RedisServer


def wait_until(ready: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met within the timeout")
        time.sleep(0.02)


def replication(server: RedisServer) -> dict[str, Any]:
    with server.client() as client:
        return dict(client.info("replication"))


def offset(server: RedisServer) -> int:
    """How much of the replication stream the server has applied."""
    info = replication(server)
    return int(info.get("slave_repl_offset", info["master_repl_offset"]))


def link_up(replica: RedisServer) -> bool:
    return replication(replica).get("master_link_status") == "up"


def link_down(replica: RedisServer) -> bool:
    return replication(replica).get("master_link_status") == "down"


def promote_best(replicas: Sequence[RedisServer]) -> RedisServer:
    """Promote the replica with the largest replication offset, as Sentinel and Cluster do
    when priorities are equal (``REPLICAOF NO ONE``), once each saw its primary gone."""
    for r in replicas:
        wait_until(partial(link_down, r))
    best = max(replicas, key=offset)
    with best.client() as client:
        client.replicaof("NO", "ONE")
    return best
