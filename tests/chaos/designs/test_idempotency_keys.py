"""idempotency-keys (Schedulinator): the project's Lua claim locks a task by negating its
score, so executors never share one; a killed or failed run leaves its task locked."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from duetime.chaos.checker.facts import Execution
from duetime.chaos.designs import idempotency_keys as ik
from duetime.chaos.designs.contract import Delivery, connect
from duetime.chaos.system.redis_server import RedisServer
from tests.chaos.designs.conftest import DesignProcesses

MODULE = "duetime.chaos.designs.idempotency_keys"


@pytest.fixture
def r(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = connect(redis_server.url)
    yield client
    client.close()


def schedule(client: ik.IdempotencyKeysClient, task_id: str, due: float, work_s: float) -> None:
    data = {"work_s": work_s, "fail_attempts": 0}
    client.schedule_task(due, data, task_type="chaos", task_id=task_id, max_attempts=1)


def test_scores_are_whole_seconds_rounded_up_never_before_the_due_time() -> None:
    assert ik.score_of(100.1) == 101
    assert ik.score_of(100.0) == 100
    assert ik.idempotency_key("t", 101) == "t:101"


def test_two_executors_run_each_task_once_never_early(design_procs: DesignProcesses) -> None:
    client = ik.client(design_procs.url, design_procs.namespace)
    for name in ("w0", "w1"):
        design_procs.start(MODULE, "worker", name=name)
    now = time.time()
    for i in range(12):
        schedule(client, f"t{i}", now + 0.2 + i * 0.07, 0.05)
    runs = design_procs.wait_for(lambda rs: sum(e.executed for e in rs) >= 12)
    time.sleep(0.5)  # any repeat would show by now
    runs = design_procs.executions()
    assert Counter(e.task_id for e in runs) == {f"t{i}": 1 for i in range(12)}
    assert design_procs.started_early(tolerance=0.0) == [], "a run started before its due time"
    assert all(e.idempotency_key == f"{e.task_id}:{ik.score_of(e.due_at)}" for e in runs)
    assert client.backlog() == {"scheduled": 0}
    client.close()


def test_an_executor_killed_mid_run_leaves_its_task_locked_forever(
    design_procs: DesignProcesses, r: redis.Redis
) -> None:
    client = ik.client(design_procs.url, design_procs.namespace)
    first = design_procs.start(MODULE, "worker", name="w0")
    schedule(client, "slow", time.time(), 30.0)
    design_procs.wait_for(lambda rs: any(e.task_id == "slow" for e in rs))
    design_procs.kill(first)
    design_procs.start(MODULE, "worker", name="w1")
    time.sleep(1.5)  # past its due second: a free task would have been claimed again
    runs: list[Execution] = [e for e in design_procs.executions() if e.task_id == "slow"]
    assert len(runs) == 1 and not runs[0].executed
    score = r.zscore(ik.schedules_key(design_procs.namespace), "slow")
    assert score is not None and score < 0  # locked, never unlocked
    assert client.backlog() == {"scheduled": 0}  # and not counted as still to run
    client.close()


def test_a_failed_run_stays_locked_and_a_successful_one_is_removed(
    r: redis.Redis, namespace: str
) -> None:
    client = ik.client(_url(r), namespace)
    calls: list[Delivery] = []

    def handler(task: Delivery) -> None:
        calls.append(task)
        if task.task_id == "bad":
            raise RuntimeError("non-200")

    executor = ik.Executor(r, namespace, {"chaos": handler})
    for task_id in ("bad", "good"):
        schedule(client, task_id, time.time() - 2, 0.0)
    executor.round()
    assert sorted(t.task_id for t in calls) == ["bad", "good"]
    key = ik.schedules_key(namespace)
    bad = r.zscore(key, "bad")
    assert bad is not None and bad < 0
    assert r.zscore(key, "good") is None
    executor.round()
    assert len(calls) == 2  # the locked task is never claimed again
    client.close()


def test_the_claim_takes_at_most_five_by_redis_time(r: redis.Redis, namespace: str) -> None:
    client = ik.client(_url(r), namespace)
    for i in range(7):
        schedule(client, f"d{i}", time.time() - 2, 0.0)
    schedule(client, "later", time.time() + 60, 0.0)
    executor = ik.Executor(r, namespace, {})
    claimed = executor.claim()
    assert len(claimed) == ik.CLAIM_LIMIT
    assert {c[0] for c in claimed} <= {f"d{i}" for i in range(7)}
    assert len(executor.claim()) == 2
    assert executor.claim() == []
    client.close()


def _url(r: redis.Redis) -> Any:
    kw = r.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"
