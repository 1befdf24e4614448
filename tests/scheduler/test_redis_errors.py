"""Redis's refusals reach the caller as library errors, and none after a write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from duetime import Scheduler
from duetime.chaos.system.redis_server import Persistence, RedisServer
from duetime.errors import PermissionDenied, RedisMisconfigured, library_error


@pytest.fixture
def replica(redis_server: RedisServer) -> Iterator[RedisServer]:
    with RedisServer(
        Persistence(aof="off"), extra=[f"replicaof 127.0.0.1 {redis_server.port}"]
    ) as server:
        yield server


def test_redis_refusals_reach_the_caller_as_library_errors(
    sched: Scheduler, redis_server: RedisServer, replica: RedisServer, namespace: str
) -> None:
    stranger = Scheduler.from_url(
        f"redis://nobody:wrong@127.0.0.1:{redis_server.port}/0", namespace=namespace
    )
    with pytest.raises(PermissionDenied, match="authentication failed"):
        stranger.schedule_task(0)
    stranger.close()

    on_replica = Scheduler.from_url(replica.url, namespace=namespace)
    with pytest.raises(RedisMisconfigured, match="read-only replica"):
        on_replica.schedule_task(0)
    on_replica.close()

    sched.redis.set(sched.keys.due, "not a sorted set")
    with pytest.raises(RedisMisconfigured, match="another type"):
        sched.schedule_task(0, task_id="x")
    assert sched.redis.hget(sched.keys.tasks, "x") is None  # refused before any write

    moved = redis.exceptions.MovedError("3999 127.0.0.1:7002")
    assert isinstance(library_error("get", moved), RedisMisconfigured)
