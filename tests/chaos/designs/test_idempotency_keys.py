"""idempotency-keys: happy path, and its windows: a kill mid-handler repeats the task with
the same key, the integer score runs tasks up to a second early, two executors both run a
due task."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import fakeredis
import pytest
import redis

from duetime.chaos.designs import idempotency_keys as ik
from duetime.chaos.designs.contract import Delivery, connect
from duetime.chaos.history.ops import EXECUTE
from duetime.chaos.system.redis_server import RedisServer

if TYPE_CHECKING:
    from tests.chaos.designs.conftest import DesignProcesses

MODULE = "duetime.chaos.designs.idempotency_keys"


@pytest.fixture
def r(redis_server: RedisServer) -> redis.Redis:
    return connect(redis_server.url)


def invokes(procs: DesignProcesses, task_id: str) -> list[tuple[str, str]]:
    """(process, idempotency key) of every start of ``task_id``, from the raw history."""
    return [
        (op.process, str(op.value["idempotency_key"]))
        for op in procs.history()
        if op.f == EXECUTE and op.type == "invoke" and op.value["task_id"] == task_id
    ]


def schedule(sched: ik.IdempotencyKeysClient, task_id: str, at: float, **data: Any) -> None:
    sched.schedule_task(at, data, task_type="chaos", task_id=task_id, max_attempts=1)


def test_tasks_run_once_within_the_second_and_backlog_drains(
    design_procs: DesignProcesses, namespace: str, r: redis.Redis
) -> None:
    worker = design_procs.start(MODULE, "worker", "--concurrency", "2")
    sched = ik.client(design_procs.url, namespace)
    base = time.time() + 1.0
    due = {f"t{i}": base + 0.3 * i for i in range(4)}
    for task_id, at in due.items():
        schedule(sched, task_id, at, work_s=0.05)
    assert sched.backlog() == {"scheduled": 4}
    design_procs.wait_for(lambda rs: sum(e.executed for e in rs) == 4)
    time.sleep(0.3)  # would a second run show up?
    runs = design_procs.executions()
    assert Counter(e.task_id for e in runs) == dict.fromkeys(due, 1)
    for e in runs:
        assert e.due_at == due[e.task_id]
        assert e.start >= math.floor(e.due_at) - 0.002  # the design's resolution: 1 s
    assert sched.backlog() == {"scheduled": 0}
    assert r.keys(f"{namespace}:*") == []
    assert {key for _, key in invokes(design_procs, "t0")} == {f"t0:{int(due['t0'])}"}
    assert design_procs.stop(worker) == 0
    sched.close()


def test_worker_killed_mid_handler_runs_the_task_again_with_the_same_key(
    design_procs: DesignProcesses, namespace: str, r: redis.Redis
) -> None:
    first = design_procs.start(MODULE, "worker", name="worker-first")
    sched = ik.client(design_procs.url, namespace)
    at = time.time()
    schedule(sched, "slow", at, work_s=30, fail_attempts=0)
    design_procs.wait_for(lambda rs: any(e.task_id == "slow" and e.end is None for e in rs))
    design_procs.kill(first)
    # Removal comes after the run: the task is still in the set, with its payload.
    assert r.zscore(ik.schedules_key(namespace), "slow") == int(at)
    assert r.hexists(ik.payloads_key(namespace), "slow")
    assert sched.backlog() == {"scheduled": 1}

    design_procs.start(MODULE, "worker", name="worker-again")
    design_procs.wait_for(lambda rs: len([e for e in rs if e.task_id == "slow"]) == 2)
    starts = invokes(design_procs, "slow")
    assert [p for p, _ in starts] == ["worker-first", "worker-again"]
    assert {key for _, key in starts} == {f"slow:{int(at)}"}  # the receiver can drop it
    sched.close()


def test_two_executors_both_run_a_due_task_with_the_same_key(
    design_procs: DesignProcesses, namespace: str, r: redis.Redis
) -> None:
    design_procs.start(MODULE, "worker", name="worker-a")
    design_procs.start(MODULE, "worker", name="worker-b")
    sched = ik.client(design_procs.url, namespace)
    # Due at the next whole second: both poll every 100 ms, the run takes 1 s.
    at = math.floor(time.time()) + 1.0
    schedule(sched, "both", at, work_s=1.0)
    runs = design_procs.wait_for(
        lambda rs: sum(e.task_id == "both" and e.executed for e in rs) == 2
    )
    assert sorted(e.process for e in runs) == ["worker-a", "worker-b"]
    assert {key for _, key in invokes(design_procs, "both")} == {f"both:{int(at)}"}
    assert sched.backlog() == {"scheduled": 0}
    sched.close()


class Recorder:
    """In-process handlers: jobs are held until ``run_all``, deliveries are recorded."""

    def __init__(self) -> None:
        self.jobs: list[Callable[[], None]] = []
        self.seen: list[Delivery] = []

    def submit(self, job: Callable[[], None]) -> object:
        self.jobs.append(job)
        return job

    def run_all(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            job()

    def executor(self, r: redis.Redis, namespace: str) -> ik.Executor:
        return ik.Executor(r, namespace, {"chaos": self.seen.append}, 4, self.submit)


def test_integer_score_runs_a_task_almost_two_seconds_early(
    namespace: str, r: redis.Redis, redis_server: RedisServer
) -> None:
    second = math.floor(time.time()) + 60
    due = second + 1.9
    sched = ik.client(redis_server.url, namespace)
    schedule(sched, "early", due)
    assert r.zscore(ik.schedules_key(namespace), "early") == second + 1  # truncated
    rec = Recorder()
    executor = rec.executor(r, namespace)
    executor.poll(now=second + 0.999)
    assert rec.jobs == []  # not yet: int(now) is still below the score
    executor.poll(now=second + 1.0)  # 0.9 s before the due time
    rec.run_all()
    assert [(d.task_id, d.due_at, d.idempotency_key) for d in rec.seen] == [
        ("early", due, f"early:{second + 1}")
    ]
    assert sched.backlog() == {"scheduled": 0}
    sched.close()


def test_two_executors_in_process_duplicate_and_one_does_not_repeat_itself(
    namespace: str, r: redis.Redis, redis_server: RedisServer
) -> None:
    sched = ik.client(redis_server.url, namespace)
    schedule(sched, "dup", time.time() - 1)
    a, b = Recorder(), Recorder()
    exec_a, exec_b = a.executor(r, namespace), b.executor(r, namespace)
    exec_a.poll()
    exec_a.poll()  # still running in a: not started again
    exec_b.poll()
    assert (len(a.jobs), len(b.jobs)) == (1, 1)
    a.run_all()
    b.run_all()
    assert [d.idempotency_key for d in a.seen + b.seen] == [a.seen[0].idempotency_key] * 2
    assert sched.backlog() == {"scheduled": 0}
    sched.close()


def test_failed_handler_is_removed_after_its_attempt() -> None:
    fake = fakeredis.FakeRedis(decode_responses=True)
    fake.hset(
        ik.payloads_key("ns"), "bad", json.dumps({"task_type": "chaos", "data": {}, "due_at": 1.5})
    )
    fake.zadd(ik.schedules_key("ns"), {"bad": 1})
    calls: list[Delivery] = []

    def boom(task: Delivery) -> None:
        calls.append(task)
        raise RuntimeError("handler failed")

    executor = ik.Executor(fake, "ns", {"chaos": boom}, 1, lambda job: job())
    executor.poll()
    executor.poll()
    assert len(calls) == 1  # no retry: the attempt removed it
    assert fake.zcard(ik.schedules_key("ns")) == 0 and fake.hlen(ik.payloads_key("ns")) == 0
