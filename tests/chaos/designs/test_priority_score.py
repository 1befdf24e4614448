"""priority-score (seed 002): the composite score is not an order of due times, so a due
task waits behind a not-yet-due one with a higher score; a popped task has no ack."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from duetime.chaos.designs import priority_score as ps
from duetime.chaos.designs.contract import Delivery, connect
from duetime.chaos.system.redis_server import RedisServer
from tests.chaos.designs.conftest import DesignProcesses

MODULE = "duetime.chaos.designs.priority_score"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def r(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = connect(redis_server.url)
    yield client
    client.close()


def test_the_articles_score_favours_priority_and_nearness() -> None:
    assert ps.effective_score(2.0, 1.0) == 2 * ps.effective_score(1.0, 1.0)
    assert ps.effective_score(1.0, 0.5) > ps.effective_score(1.0, 5.0)


def test_a_due_task_waits_behind_a_higher_scored_task_not_yet_due(
    redis_server: RedisServer, r: redis.Redis, namespace: str
) -> None:
    clock = Clock()
    client = ps.PriorityScoreClient(redis_server.url, namespace, clock=clock)
    # "urgent" is due in 2 s but has priority 10000: its score beats "due" (due now).
    client.schedule_task(
        T0 + 2, {"priority": 10000}, task_type="t", task_id="urgent", max_attempts=1
    )
    client.schedule_task(T0, {}, task_type="t", task_id="due", max_attempts=1)
    ran: list[str] = []
    consumer = ps.Consumer(r, namespace, {"t": lambda d: ran.append(d.task_id)}, clock=clock)
    for _ in range(3):
        assert consumer.step() == ps.POLL_S  # pops "urgent", not due: puts it back
    assert ran == []  # "due" is due and waits
    clock.t = T0 + 2
    while consumer.step() == 0.0:
        pass
    assert ran == ["urgent", "due"]  # "due" ran 2 s late, after the task ahead of it
    client.close()


def test_a_failed_run_is_retried_up_to_its_bound(r: redis.Redis, namespace: str) -> None:
    calls: list[Delivery] = []

    def failing(task: Delivery) -> None:
        calls.append(task)
        raise RuntimeError("boom")

    r.zadd(ps.tasks_key(namespace), {ps.encode("x", "t", {}, 0.0, 1, 3): 1.0})
    consumer = ps.Consumer(r, namespace, {"t": failing})
    for _ in range(5):
        consumer.step()
    assert [c.attempt for c in calls] == [1, 2, 3]
    assert r.zcard(ps.tasks_key(namespace)) == 0
    assert r.llen(ps.completed_key(namespace)) == 3


def test_a_consumer_killed_mid_run_loses_the_task(design_procs: DesignProcesses) -> None:
    client = ps.client(design_procs.url, design_procs.namespace)
    first = design_procs.start(MODULE, "worker", "--concurrency", "1", name="w0")
    data = {"work_s": 30.0, "fail_attempts": 0}
    client.schedule_task(time.time(), data, task_type="chaos", task_id="slow", max_attempts=3)
    design_procs.wait_for(lambda rs: any(e.task_id == "slow" for e in rs))
    design_procs.kill(first)
    design_procs.start(MODULE, "worker", "--concurrency", "1", name="w1")
    time.sleep(1.0)
    runs = [e for e in design_procs.executions() if e.task_id == "slow"]
    assert len(runs) == 1 and not runs[0].executed
    assert client.backlog() == {"tasks": 0}  # nothing in Redis says it was ever taken
    client.close()
