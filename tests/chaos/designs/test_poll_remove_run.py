"""poll-remove-run: happy path, and its windows: a kill mid-handler and a half-written schedule
lose the task; every cron process fires every slot itself."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import fakeredis
import pytest
import redis

from duetime.chaos.checker.facts import Execution
from duetime.chaos.designs import poll_remove_run as prr
from duetime.chaos.designs.contract import Delivery, connect
from duetime.chaos.system.redis_server import RedisServer

if TYPE_CHECKING:
    from tests.chaos.designs.conftest import DesignProcesses

MODULE = "duetime.chaos.designs.poll_remove_run"


@pytest.fixture
def r(redis_server: RedisServer) -> redis.Redis:
    return connect(redis_server.url)


def runs_of(runs: list[Execution], task_id: str) -> list[Execution]:
    return [e for e in runs if e.task_id == task_id]


def test_tasks_run_once_not_early_and_backlog_drains(
    design_procs: DesignProcesses, namespace: str, r: redis.Redis
) -> None:
    worker = design_procs.start(MODULE, "worker", "--concurrency", "2")
    sched = prr.client(design_procs.url, namespace)
    base = time.time() + 1.0
    due = {f"t{i}": base + 0.25 * i + 0.0007 for i in range(4)}
    for task_id, at in due.items():
        sched.schedule_task(
            at, {"work_s": 0.05}, task_type="chaos", task_id=task_id, max_attempts=1
        )
    assert sched.backlog() == {"scheduled": 4}
    runs = design_procs.wait_for(lambda rs: sum(e.executed for e in rs) == 4)
    time.sleep(0.3)  # would a second run show up?
    runs = design_procs.executions()
    assert Counter(e.task_id for e in runs) == dict.fromkeys(due, 1)
    for e in runs:
        assert e.due_at == due[e.task_id]
    assert design_procs.started_early() == []  # the ms score truncates by < 1 ms
    assert sched.backlog() == {"scheduled": 0}
    assert r.keys(f"{namespace}:*") == []  # hashes deleted after their runs
    assert design_procs.stop(worker) == 0
    sched.close()


def test_worker_killed_mid_handler_loses_the_task_and_orphans_its_hash(
    design_procs: DesignProcesses, namespace: str, r: redis.Redis
) -> None:
    worker = design_procs.start(MODULE, "worker")
    sched = prr.client(design_procs.url, namespace)
    sched.schedule_task(
        time.time(),
        {"work_s": 30, "fail_attempts": 0},
        task_type="chaos",
        task_id="slow",
        max_attempts=1,
    )
    design_procs.wait_for(lambda rs: any(e.task_id == "slow" and e.end is None for e in rs))
    design_procs.kill(worker)
    # ZREM came before the handler: Redis no longer knows the task is due; its hash stays.
    assert r.zscore(prr.set_key(namespace, "chaos"), "slow") is None
    assert r.hget(prr.hash_key(namespace, "chaos", "slow"), "data") is not None
    assert sched.backlog() == {"scheduled": 0}

    design_procs.start(MODULE, "worker")
    sched.schedule_task(
        time.time(), {"work_s": 0}, task_type="chaos", task_id="marker", max_attempts=1
    )
    runs = design_procs.wait_for(lambda rs: any(e.task_id == "marker" and e.executed for e in rs))
    slow = runs_of(runs, "slow")
    assert len(slow) == 1 and slow[0].end is None  # started once, never finished, never again
    assert r.exists(prr.hash_key(namespace, "chaos", "slow")) == 1  # orphaned for good
    sched.close()


def test_producer_dying_between_zadd_and_hset_loses_the_task(
    design_procs: DesignProcesses, namespace: str, r: redis.Redis
) -> None:
    # The producer's first command only: the id is due, its hash was never written.
    prr.add_to_set(r, namespace, "chaos", "half", time.time())
    design_procs.start(MODULE, "worker")
    sched = prr.client(design_procs.url, namespace)
    sched.schedule_task(
        time.time() + 0.3, {"work_s": 0}, task_type="chaos", task_id="marker", max_attempts=1
    )
    # One poller takes one id per round in score order: "half" went before the marker.
    runs = design_procs.wait_for(lambda rs: any(e.task_id == "marker" and e.executed for e in rs))
    assert runs_of(runs, "half") == []  # skipped silently
    assert r.zscore(prr.set_key(namespace, "chaos"), "half") is None  # and gone from the set
    assert sched.backlog() == {"scheduled": 0}
    sched.close()


def test_poller_removes_a_hashless_id_in_process(namespace: str, r: redis.Redis) -> None:
    prr.add_to_set(r, namespace, "chaos", "half", time.time() - 1)
    ran: list[Any] = []
    poller = prr.Poller(r, namespace, "chaos", ran.append, lambda job: job())
    assert poller.step() == prr.TIMEOUT_S  # took "half" out of the set...
    assert ran == []  # ...and ran nothing
    assert r.zcard(prr.set_key(namespace, "chaos")) == 0
    assert poller.step() == prr.TIMEOUT_WHEN_EMPTY_S


def test_every_cron_process_fires_every_slot(
    design_procs: DesignProcesses, namespace: str, r: redis.Redis
) -> None:
    spec = json.dumps([{"name": "tick", "expr": "* * * * * *", "work_s": 0.01}])
    cron_a = design_procs.start(MODULE, "cron", "--schedules", spec, name="cron-a")
    cron_b = design_procs.start(MODULE, "cron", "--schedules", spec, name="cron-b")

    def per_slot(runs: list[Execution]) -> dict[str, set[str]]:
        slots: dict[str, set[str]] = {}
        for e in runs:
            slots.setdefault(e.task_id, set()).add(e.process)
        return slots

    def three_full_slots(runs: list[Execution]) -> bool:
        return sum(len(p) == 2 for p in per_slot(runs).values()) >= 3

    runs = design_procs.wait_for(three_full_slots, timeout=10)
    slots = per_slot(runs)
    full = sorted(s for s, p in slots.items() if len(p) == 2)
    # Every slot between the first and the last that both fired, fired in both (the
    # newest may still be on its way in one of them).
    assert all(len(p) == 2 for s, p in slots.items() if full[0] <= s <= full[-1])
    assert Counter((e.task_id, e.process) for e in runs).most_common(1)[0][1] == 1
    for e in runs:
        assert e.due_at == int(e.task_id.rsplit(":", 1)[1]) / 1000
    assert design_procs.started_early() == []
    assert r.keys(f"{namespace}:*") == []  # node-cron style: no Redis at all
    assert (design_procs.stop(cron_a), design_procs.stop(cron_b)) == (0, 0)


def test_periodic_task_is_rescheduled_by_periodicity_days() -> None:
    fake = fakeredis.FakeRedis(decode_responses=True)
    ns, day = "ns", prr.DAY_S
    due = time.time() - 5
    base = {"data": json.dumps({"n": 1}), "scheduleDate": due}
    cases: dict[str, dict[str, Any]] = {
        "weekly": {**base, "periodicity": 7},
        "ended": {**base, "periodicity": 7, "endDate": due},
        "open-end": {**base, "periodicity": 1, "endDate": due + 3 * day},
        "once": base,
        "refused": {**base, "periodicity": 2},
    }
    for task_id, payload in cases.items():
        prr.add_to_set(fake, ns, "mail", task_id, due)
        prr.store_payload(fake, ns, "mail", task_id, payload)
    seen: list[Delivery] = []
    prr.CHECK_BEFORE_RESCHEDULE["mail"] = lambda p: (
        {**p, "note": "second"},
        json.loads(p["periodicity"]) != 2,
    )
    try:
        poller = prr.Poller(fake, ns, "mail", seen.append, lambda job: job())
        for _ in cases:
            poller.step()
    finally:
        del prr.CHECK_BEFORE_RESCHEDULE["mail"]
    assert {d.task_id for d in seen} == set(cases)
    assert all(d.due_at == due and d.data == {"n": 1} for d in seen)
    key = prr.set_key(ns, "mail")
    scores = dict(fake.zrange(key, 0, -1, withscores=True))
    assert scores == {
        "weekly": int((due + 7 * day) * 1000),
        "open-end": int((due + day) * 1000),
    }
    weekly = fake.hgetall(prr.hash_key(ns, "mail", "weekly"))
    assert float(weekly["scheduleDate"]) == due + 7 * day
    assert weekly["note"] == "second" and weekly["periodicity"] == "7"
    for gone in ("ended", "once", "refused"):
        assert not fake.exists(prr.hash_key(ns, "mail", gone))


# -- ioredis's resend of a command whose reply was lost -------------------------------


def poller_via(
    url: str, namespace: str, ran: list[str], connect_to: Any = prr.connect
) -> prr.Poller:
    def handler(task: Delivery) -> None:
        ran.append(task.task_id)

    return prr.Poller(connect_to(url), namespace, "mail", handler, lambda job: job())


@pytest.mark.parametrize("resending", [True, False], ids=["ioredis-like", "no-resend"])
def test_a_lost_hgetall_reply_is_resent_as_ioredis_does(
    redis_server: RedisServer, r: redis.Redis, namespace: str, resending: bool
) -> None:
    from tests.chaos.designs.reply_dropper import ExecReplyDropper

    prr.add_to_set(r, namespace, "mail", "t1", time.time() - 1)
    prr.store_payload(r, namespace, "mail", "t1", {"data": "1", "scheduleDate": time.time() - 1})
    dropper = ExecReplyDropper(redis_server.host, redis_server.port, b"HGETALL", b"*4\r\n")
    ran: list[str] = []
    try:
        poller = poller_via(dropper.url(), namespace, ran, prr.connect if resending else connect)
        dropper.arm()
        if resending:
            poller.step()
            assert ran == ["t1"]  # read again on a new connection: not lost
        else:
            with pytest.raises(redis.ConnectionError):
                poller.step()
            assert ran == []  # without the resend the task would be lost
        assert dropper.dropped.is_set()
    finally:
        dropper.close()


def test_a_lost_zrem_reply_is_resent_answers_0_and_the_task_is_lost(
    redis_server: RedisServer, r: redis.Redis, namespace: str
) -> None:
    from tests.chaos.designs.reply_dropper import ExecReplyDropper

    prr.add_to_set(r, namespace, "mail", "t2", time.time() - 1)
    prr.store_payload(r, namespace, "mail", "t2", {"data": "1", "scheduleDate": time.time() - 1})
    dropper = ExecReplyDropper(redis_server.host, redis_server.port, b"ZREM", b":1\r\n")
    ran: list[str] = []
    try:
        poller = poller_via(dropper.url(), namespace, ran)
        dropper.arm()
        assert poller.step() == prr.TIMEOUT_S  # "taken by another instance" (seeds/000 l.152)
        assert dropper.dropped.is_set()
    finally:
        dropper.close()
    assert ran == [] and r.zcard(prr.set_key(namespace, "mail")) == 0  # lost
