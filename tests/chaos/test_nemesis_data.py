"""Data-fault nemeses against a real redis-server: fill_memory makes Redis full (or evict)
and heals it; poison_records writes in every design's key layout."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from duetime.chaos.designs import DESIGNS, REFERENCE, Design
from duetime.chaos.designs.data_faults import POISON_KINDS, POISONERS
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.nemesis import FillMemory, NemesisContext, PoisonRecords
from duetime.chaos.nemesis.memory import BALLAST_PREFIX
from duetime.chaos.report.live import LiveView
from duetime.chaos.system.cluster import Cluster, ClusterSettings
from duetime.chaos.system.redis_server import MAXMEMORY_BYTES, Persistence, RedisServer


@dataclass
class ClusterView:
    """What the data nemeses read of a cluster."""

    client_url: str
    design: Design = REFERENCE
    settings: ClusterSettings = field(default_factory=ClusterSettings)
    clock: TestbedClock = field(default_factory=TestbedClock.anchored_now)

    def primary_client(self, **kwargs: Any) -> redis.Redis:
        return redis.Redis.from_url(self.client_url, **kwargs)


def context(url: str, tmp_path: Path, design: Design = REFERENCE) -> NemesisContext:
    cluster = cast(Cluster, ClusterView(url, design))
    return NemesisContext(cluster, LiveView(tmp_path), random.Random(1), threading.Event())


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    with RedisServer(Persistence("off", maxmemory=request.param)) as started:
        yield started


@pytest.mark.parametrize("server", ["noeviction"], indirect=True)
def test_fill_memory_makes_redis_refuse_writes_until_healed(
    server: RedisServer, tmp_path: Path
) -> None:
    r = redis.Redis.from_url(server.url)
    fault = FillMemory().inject(context(server.url, tmp_path))
    assert fault is not None and fault.detail["full"] is True
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        r.set("a-task", "x")
    fault.heal()
    assert r.set("a-task", "x")
    assert r.config_get("maxmemory")["maxmemory"] == str(MAXMEMORY_BYTES)
    assert not list(r.scan_iter(match=f"{BALLAST_PREFIX}*"))


@pytest.mark.parametrize("server", ["allkeys-lru"], indirect=True)
def test_fill_memory_under_an_evicting_policy_makes_redis_evict(
    server: RedisServer, tmp_path: Path
) -> None:
    r = redis.Redis.from_url(server.url)
    nemesis = FillMemory()
    fault = nemesis.inject(context(server.url, tmp_path))
    assert fault is not None and fault.detail["full"] is False
    assert fault.detail["ballast_bytes"] >= nemesis.overfill * nemesis.room_bytes
    assert int(r.info("stats")["evicted_keys"]) > 0
    fault.heal()
    assert r.config_get("maxmemory")["maxmemory"] == str(MAXMEMORY_BYTES)


def test_every_design_has_a_poisoner() -> None:
    assert set(POISONERS) == set(DESIGNS)


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_poison_records_writes_into_the_design_s_namespace(
    redis_server: RedisServer, tmp_path: Path, name: str
) -> None:
    r = redis.Redis.from_url(redis_server.url)
    namespace = f"poison-{name}"
    settings = ClusterSettings(namespace=namespace)
    cluster = cast(Cluster, ClusterView(redis_server.url, DESIGNS[name], settings))
    ctx = NemesisContext(cluster, LiveView(tmp_path), random.Random(1), threading.Event())
    fault = PoisonRecords().inject(ctx)
    assert fault is not None
    kinds = [t["kind"] for t in fault.detail["tasks"]] + fault.detail["kinds_the_design_lacks"]
    assert sorted(kinds) == sorted(POISON_KINDS)
    assert fault.detail["tasks"], "a design must get at least one kind of poisoned record"
    assert len(fault.detail["cron"]) == (1 if DESIGNS[name] is REFERENCE else 0)  # specs in Redis
    assert list(r.scan_iter(match=f"*{namespace}*"))
