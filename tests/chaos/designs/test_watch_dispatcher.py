"""watch-dispatcher on a real Redis: happy path, and the failures its design has."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from duetime.chaos.checker.facts import Execution
from duetime.chaos.designs import watch_dispatcher as design
from duetime.chaos.designs.contract import connect
from duetime.chaos.system.redis_server import RedisServer
from tests.chaos.designs.conftest import DesignProcesses
from tests.chaos.designs.reply_dropper import ExecReplyDropper

MODULE = "duetime.chaos.designs.watch_dispatcher"


@pytest.fixture
def c(redis_server: RedisServer, namespace: str) -> Iterator[design.WatchDispatcherClient]:
    client = design.client(redis_server.url, namespace)
    yield client
    client.close()


@pytest.fixture
def dropper(redis_server: RedisServer) -> Iterator[ExecReplyDropper]:
    proxy = ExecReplyDropper(redis_server.host, redis_server.port)
    yield proxy
    proxy.close()


def ran(task_id: str, runs: list[Execution]) -> list[Execution]:
    return [e for e in runs if e.task_id == task_id]


def schedule(c: design.WatchDispatcherClient, task_id: str, due: float, work_s: float) -> None:
    c.schedule_task(due, {"work_s": work_s}, task_type="chaos", task_id=task_id, max_attempts=1)


def test_tasks_run_once_not_early_and_backlog_drains(
    design_procs: DesignProcesses, c: design.WatchDispatcherClient
) -> None:
    workers = [
        design_procs.start(MODULE, "worker", "--concurrency", "2", "--dispatch") for _ in range(2)
    ]
    now = time.time()
    ids = [f"t{i}" for i in range(4)]
    for i, task_id in enumerate(ids):
        schedule(c, task_id, now + 0.5 * i, 0.1)
    runs = design_procs.wait_for(lambda rs: sum(e.executed for e in rs) == len(ids))
    for task_id in ids:
        (run,) = ran(task_id, runs)
        assert run.due_at <= run.start <= run.due_at + design.DISPATCH_IDLE_S + 1.5
    assert c.backlog() == {"scheduled": 0, "queued": 0}
    assert [design_procs.stop(w) for w in workers] == [0, 0]  # SIGTERM: a clean exit


def test_worker_killed_mid_task_loses_it(
    design_procs: DesignProcesses, c: design.WatchDispatcherClient
) -> None:
    first = design_procs.start(MODULE, "worker", "--concurrency", "1", "--dispatch")
    schedule(c, "long", time.time(), 30)
    design_procs.wait_for(lambda rs: any(e.task_id == "long" for e in rs))
    design_procs.kill(first)
    # BLPOP took it off its queue and the dispatcher had removed it from the set.
    assert c.backlog() == {"scheduled": 0, "queued": 0}
    design_procs.start(MODULE, "worker", "--concurrency", "1", "--dispatch")
    schedule(c, "marker", time.time(), 0)
    runs = design_procs.wait_for(lambda rs: any(e.executed for e in ran("marker", rs)))
    (long_run,) = ran("long", runs)
    assert long_run.end is None  # started once, never finished, never run again


def test_dispatcher_dying_before_exec_loses_nothing(
    redis_server: RedisServer, namespace: str, c: design.WatchDispatcherClient
) -> None:
    schedule(c, "x", time.time() - 1, 0)
    dying = connect(redis_server.url)
    pipe = dying.pipeline()
    member = design.read_due(pipe, namespace)  # WATCH + ZRANGEBYSCORE, then it dies
    assert member is not None
    assert pipe.connection is not None
    pipe.connection.disconnect()  # type: ignore[no-untyped-call]
    dying.close()
    assert c.backlog() == {"scheduled": 1, "queued": 0}
    other = connect(redis_server.url)
    try:
        assert design.dispatch_once(other, namespace) == 0.0
        assert c.backlog() == {"scheduled": 0, "queued": 1}
        assert design.dispatch_once(other, namespace) == design.DISPATCH_IDLE_S
        assert other.lrange(design.queue_key(namespace, "chaos"), 0, -1) == [member]
    finally:
        other.close()


def test_racing_dispatchers_push_a_task_once(
    redis_server: RedisServer, namespace: str, c: design.WatchDispatcherClient
) -> None:
    schedule(c, "x", time.time() - 1, 0)
    ra, rb = connect(redis_server.url), connect(redis_server.url)
    try:
        with ra.pipeline() as a, rb.pipeline() as b:
            seen_a = design.read_due(a, namespace)
            seen_b = design.read_due(b, namespace)
            assert seen_a is not None and seen_a == seen_b
            design.move(b, namespace, seen_b)
            with pytest.raises(redis.WatchError):  # the set changed after a's WATCH
                design.move(a, namespace, seen_a)
        assert c.backlog() == {"scheduled": 0, "queued": 1}
    finally:
        ra.close()
        rb.close()


def test_producer_retry_of_the_same_task_keeps_one_entry(
    redis_server: RedisServer, namespace: str, c: design.WatchDispatcherClient
) -> None:
    due = time.time() + 60
    schedule(c, "x", due, 0)
    schedule(c, "x", due, 0)
    assert c.backlog() == {"scheduled": 1, "queued": 0}
    # ...unless the first copy was moved before the retry landed: then it comes back.
    r = connect(redis_server.url)
    try:
        design.dispatch_once(r, namespace, now=due)
    finally:
        r.close()
    schedule(c, "x", due, 0)
    assert c.backlog() == {"scheduled": 1, "queued": 1}


@pytest.mark.parametrize("retrying", [False, True], ids=["connect-default", "with-retries"])
def test_lost_exec_reply_raises_watch_error_and_is_not_resent(
    dropper: ExecReplyDropper,
    redis_server: RedisServer,
    namespace: str,
    c: design.WatchDispatcherClient,
    retrying: bool,
) -> None:
    """The pipeline was WATCHing: redis-py turns the lost reply into WatchError and
    resends nothing, whether the client has retries (``redis.Redis(host=...)``'s
    default) or none (``connect(url)``, i.e. ``from_url``)."""
    schedule(c, "x", time.time() - 1, 0)
    via_proxy = (
        redis.Redis(host="127.0.0.1", port=dropper.port, decode_responses=True)
        if retrying
        else connect(dropper.url())
    )
    try:
        dropper.arm()
        with via_proxy.pipeline() as pipe:
            member = design.read_due(pipe, namespace)
            assert member is not None
            with pytest.raises(redis.WatchError):
                design.move(pipe, namespace, member)
        assert dropper.dropped.is_set()
        assert c.backlog() == {"scheduled": 0, "queued": 1}  # applied once
        assert design.dispatch_once(via_proxy, namespace) == design.DISPATCH_IDLE_S
        assert c.backlog() == {"scheduled": 0, "queued": 1}
    finally:
        via_proxy.close()
