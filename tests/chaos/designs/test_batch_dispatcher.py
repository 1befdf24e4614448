"""batch-dispatcher on a real Redis: happy path, and the failures its design has."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis

from duetime.chaos.checker.facts import Execution
from duetime.chaos.designs import batch_dispatcher as design
from duetime.chaos.designs.contract import connect, delivery_from_json
from duetime.chaos.system.redis_server import RedisServer
from tests.chaos.designs.conftest import DesignProcesses
from tests.chaos.designs.reply_dropper import ExecReplyDropper

MODULE = "duetime.chaos.designs.batch_dispatcher"


@pytest.fixture
def dropper(redis_server: RedisServer) -> Iterator[ExecReplyDropper]:
    proxy = ExecReplyDropper(redis_server.host, redis_server.port)
    yield proxy
    proxy.close()


@pytest.fixture
def r(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = connect(redis_server.url)
    yield client
    client.close()


def ran(task_id: str, runs: list[Execution]) -> list[Execution]:
    return [e for e in runs if e.task_id == task_id]


def test_tasks_run_once_not_early_and_backlog_drains(design_procs: DesignProcesses) -> None:
    c = design.client(design_procs.url, design_procs.namespace)
    try:
        workers = [
            design_procs.start(MODULE, "worker", "--concurrency", "2", "--dispatch"),
            design_procs.start(MODULE, "worker", "--concurrency", "2"),
        ]
        now = time.time()
        ids = [f"t{i}" for i in range(4)]
        for i, task_id in enumerate(ids):
            c.schedule_task(
                now + 0.5 * i, {"work_s": 0.1}, task_type="chaos", task_id=task_id, max_attempts=1
            )
        runs = design_procs.wait_for(lambda rs: sum(e.executed for e in rs) == len(ids))
        for task_id in ids:
            (run,) = ran(task_id, runs)
            assert run.due_at <= run.start <= run.due_at + design.RESOLUTION_S + 1.5
        assert sum(c.backlog().values()) == 0
        results = c.redis.lrange(design.results_key(design_procs.namespace), 0, -1)
        assert sorted(json.loads(x)["task_id"] for x in results) == ids  # written, never read
        assert [design_procs.stop(w) for w in workers] == [0, 0]  # SIGTERM: a clean exit
    finally:
        c.close()


def test_worker_killed_mid_task_loses_it(design_procs: DesignProcesses) -> None:
    c = design.client(design_procs.url, design_procs.namespace)
    try:
        first = design_procs.start(MODULE, "worker", "--concurrency", "1", "--dispatch")
        c.schedule_task(
            time.time(), {"work_s": 30}, task_type="chaos", task_id="long", max_attempts=1
        )
        design_procs.wait_for(lambda rs: any(e.task_id == "long" for e in rs))
        design_procs.kill(first)
        # BLPOP took it off the list; the set no longer holds it either: Redis forgot it.
        assert c.backlog() == {"new_tasks": 0, "to_be_executed": 0}
        design_procs.start(MODULE, "worker", "--concurrency", "1", "--dispatch")
        c.schedule_task(
            time.time(), {"work_s": 0}, task_type="chaos", task_id="marker", max_attempts=1
        )
        runs = design_procs.wait_for(lambda rs: any(e.executed for e in ran("marker", rs)))
        (long_run,) = ran("long", runs)
        assert long_run.end is None  # started once, never finished, never run again
        assert sum(c.backlog().values()) == 0
    finally:
        c.close()


def test_without_the_central_dispatcher_nothing_moves(design_procs: DesignProcesses) -> None:
    c = design.client(design_procs.url, design_procs.namespace)
    ns = design_procs.namespace
    try:
        design_procs.start(MODULE, "worker", "--concurrency", "1")  # not the dispatcher
        c.schedule_task(
            time.time() - 1, {"work_s": 0}, task_type="chaos", task_id="due", max_attempts=1
        )
        # A task pushed straight onto the run list shows that this worker is up and working.
        c.redis.rpush(design.run_list_key(ns), design.encode(time.time(), {}, "chaos", "pushed"))
        design_procs.wait_for(lambda rs: any(e.executed for e in ran("pushed", rs)))
        time.sleep(design.RESOLUTION_S + 0.5)  # longer than a dispatcher round
        assert ran("due", design_procs.executions()) == []
        assert c.backlog() == {"new_tasks": 1, "to_be_executed": 0}
        design_procs.start(MODULE, "worker", "--concurrency", "1", "--dispatch")
        runs = design_procs.wait_for(lambda rs: any(e.executed for e in ran("due", rs)))
        assert len(ran("due", runs)) == 1
    finally:
        c.close()


def test_two_dispatchers_push_the_same_task_twice(
    redis_server: RedisServer, r: redis.Redis, namespace: str
) -> None:
    c = design.client(redis_server.url, namespace)
    try:
        c.schedule_task(
            time.time() - 1, {"work_s": 0}, task_type="chaos", task_id="x", max_attempts=1
        )
        seen_a = design.due_members(r, namespace)
        seen_b = design.due_members(r, namespace)
        assert seen_a == seen_b and len(seen_a) == 1
        design.move(r, namespace, seen_a[0])
        design.move(r, namespace, seen_b[0])  # ZREM is a no-op now; RPUSH is not
        assert c.backlog() == {"new_tasks": 0, "to_be_executed": 2}
        queued = r.lrange(design.run_list_key(namespace), 0, -1)
        assert [delivery_from_json(str(m)).task_id for m in queued] == ["x", "x"]
    finally:
        c.close()


def test_producer_retry_of_the_same_task_keeps_one_entry(
    redis_server: RedisServer, r: redis.Redis, namespace: str
) -> None:
    c = design.client(redis_server.url, namespace)
    try:
        due = time.time() + 60
        for _ in range(2):
            c.schedule_task(due, {"work_s": 0}, task_type="chaos", task_id="x", max_attempts=1)
        assert c.backlog() == {"new_tasks": 1, "to_be_executed": 0}
        # ...unless the first copy was moved before the retry landed: then it comes back.
        design.dispatch_round(r, namespace, now=due)
        c.schedule_task(due, {"work_s": 0}, task_type="chaos", task_id="x", max_attempts=1)
        assert c.backlog() == {"new_tasks": 1, "to_be_executed": 1}
    finally:
        c.close()


def test_lost_exec_reply_is_not_resent_by_the_default_client(
    dropper: ExecReplyDropper, r: redis.Redis, namespace: str
) -> None:
    member = design.encode(time.time() - 1, {}, "chaos", "x")
    r.zadd(design.new_tasks_key(namespace), {member: time.time() - 1})
    via_proxy = connect(dropper.url())
    try:
        dropper.arm()
        with pytest.raises(redis.ConnectionError):
            design.dispatch_round(via_proxy, namespace)
        assert dropper.dropped.is_set()
        # EXEC was applied; redis-py did not resend it; the next round finds nothing.
        assert r.llen(design.run_list_key(namespace)) == 1
        assert r.zcard(design.new_tasks_key(namespace)) == 0
        design.dispatch_round(via_proxy, namespace)
        assert r.llen(design.run_list_key(namespace)) == 1
    finally:
        via_proxy.close()


def test_lost_exec_reply_is_resent_by_a_client_with_retries(
    dropper: ExecReplyDropper, r: redis.Redis, namespace: str
) -> None:
    """``redis.Redis(host, port)`` (not ``from_url``) retries 3 times by default: the
    transaction, which has no WATCH, is resent whole and its RPUSH runs twice."""
    member = design.encode(time.time() - 1, {}, "chaos", "x")
    r.zadd(design.new_tasks_key(namespace), {member: time.time() - 1})
    retrying = redis.Redis(host="127.0.0.1", port=dropper.port, decode_responses=True)
    try:
        dropper.arm()
        design.dispatch_round(retrying, namespace)
        assert dropper.dropped.is_set()
        assert r.lrange(design.run_list_key(namespace), 0, -1) == [member, member]
    finally:
        retrying.close()
