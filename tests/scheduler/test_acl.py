"""The README's ACLs, run as written against a real redis-server 7: each role's calls
succeed with exactly those rules (Redis logs no refusal), and the producer is refused
what it must not do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import redis

from duetime import NewTask, Scheduler, Status, Task, Worker, lua, worker_protocol
from duetime.errors import PermissionDenied
from duetime.settings import RetryPolicy
from tests.conftest import AclUsers, readme_block

# Calls duetime makes itself, outside its scripts, per role.
WORKER_CALLS = {"ping", "info", "evalsha", "script|load", "subscribe", "time"} | {
    "get",  # the shard count (shards.lua, reading),
    "zrangebyscore",  # the cron ticker: due schedules,
    "hmget",  # their specs,
    "zrem",  # dropping a schedule that was removed,
    "zrange",  # and the next slot
}
WORKER_SCRIPTS = (
    "claim",
    "ack",
    "fail",
    "renew",
    "release",
    "fire_cron",
    "register_cron",
    "quarantine_cron",
    "heartbeat",
)
# "info": the maxmemory-policy check on the first call (HELLO needs no permission).
PRODUCER_CALLS = {"ping", "info", "evalsha", "script|load", "script|exists", "get"}
ADMIN_CALLS = WORKER_CALLS | PRODUCER_CALLS | {"multi", "exec", "hget", "hgetall", "zscore", "hdel"}
# Some redis-py versions name themselves on connect and ignore a refusal: not needed.
IGNORED_REFUSALS = frozenset({"client|setinfo"})


def readme_acl() -> dict[str, str]:
    """Role -> its README ``ACL SETUSER`` command."""
    lines = readme_block("acl").strip().splitlines()
    return {line.split()[2].removeprefix("duetime-"): line for line in lines}


def commands_of(line: str) -> set[str]:
    return {word[1:] for word in line.split() if word.startswith("+")}


def test_each_role_lists_exactly_the_commands_its_calls_make() -> None:
    acl = readme_acl()
    assert set(acl) == {"worker", "producer", "admin"}
    scripts = {name: set(lua.commands(name)) for name in lua.names()}
    worker = WORKER_CALLS.union(*(scripts[s] for s in WORKER_SCRIPTS))
    assert commands_of(acl["worker"]) == worker
    no_cron = {"ping", "info", "evalsha", "script|load", "subscribe", "get"}.union(
        *(scripts[s] for s in ("claim", "ack", "fail", "renew", "release"))
    )
    assert worker - no_cron == {"hexists", "hmget", "hsetnx", "zscore"}  # as the README says
    assert commands_of(acl["producer"]) == PRODUCER_CALLS | scripts["schedule"]
    assert commands_of(acl["admin"]) == ADMIN_CALLS.union(*scripts.values())
    for line in acl.values():
        assert "~dt:{shop}:" in line and "&dt:{shop}:*" in line and " reset " in line


def make(users: AclUsers, role: str, **options: object) -> Scheduler:
    """A Scheduler connected as a fresh user with ``role``'s README ACL."""
    return users.make(readme_acl()[role], **options)


def wait_until(pred: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def done(sched: Scheduler, task_id: str) -> bool:
    info = sched.get(task_id)
    return info is not None and info.status is Status.DONE


def test_worker_acl_claims_acks_renews_fails_releases_ticks_and_subscribes(
    acl_users: AclUsers, namespace: str
) -> None:
    admin = make(acl_users, "admin")
    producer = make(acl_users, "producer")
    worker_sched = make(
        acl_users,
        "worker",
        retry=RetryPolicy(max_attempts=2, backoff_base_s=0.05, backoff_cap_s=0.1),
    )
    ran: dict[str, list[int]] = {}
    release_started = threading.Event()

    def handler(task: Task) -> None:
        ran.setdefault(task.task_id, []).append(task.attempt)
        if task.task_id == "fails":
            raise RuntimeError("planned")
        if task.task_id == "slow":
            time.sleep(1.5)  # three leases long: renewed meanwhile
        if task.task_id == "hangs":
            release_started.set()
            time.sleep(3)

    producer.schedule_task(0, task_type="t", task_id="ok")
    producer.schedule_task(0, task_type="t", task_id="fails", max_attempts=2)
    producer.schedule_task(0, task_type="t", task_id="slow")
    admin.schedule_recurring("every-second", "* * * * * *", task_type="tick")
    worker = Worker(worker_sched, {"t": handler, "tick": handler}, lease_s=0.5, shutdown_grace_s=0)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_until(lambda: done(admin, "ok") and done(admin, "slow") and admin.stats().dead == 1)
        wait_until(lambda: any(k.startswith("cron:every-second:") for k in ran))
        wake = worker_sched.keys.wake
        assert acl_users.root.pubsub_numsub(wake)[0][1] >= 1, "the worker did not subscribe"
        producer.schedule_task(0, task_type="t", task_id="hangs")
        assert release_started.wait(10)
    finally:
        worker.stop()
        thread.join(15)
    assert ran["ok"] == [1] and ran["fails"] == [1, 2] and ran["slow"] == [1]
    hangs = admin.get("hangs")
    assert hangs is not None and hangs.status is Status.SCHEDULED  # handed back: released
    assert acl_users.refusals(IGNORED_REFUSALS) == []


def test_producer_acl_schedules_and_wakes_but_cannot_claim_or_touch_dead_letters(
    acl_users: AclUsers, namespace: str
) -> None:
    admin = make(acl_users, "admin")
    producer = make(acl_users, "producer")
    listener = acl_users.root.pubsub()
    listener.subscribe(producer.keys.wake)
    try:
        producer.schedule_task(time.time() + 60, task_type="t", task_id="one")
        # More than one script call per batch: a pipeline that loads the script first.
        many = [NewTask(time.time() + 120, task_type="t") for _ in range(1500)]
        assert len(producer.schedule_many(many)) == 1500
        deadline = time.monotonic() + 5
        messages = []
        while time.monotonic() < deadline and not messages:
            m = listener.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if m is not None:
                messages.append(m)
        assert messages, "the producer's wake-up was not published"
    finally:
        listener.close()
    assert admin.stats().scheduled == 1501
    assert acl_users.refusals(IGNORED_REFUSALS) == []

    with pytest.raises(redis.exceptions.NoPermissionError):
        worker_protocol.claim(producer, 30_000, 10)
    for call in (
        producer.dead_letters,
        lambda: producer.retry_dead("one"),
        producer.purge_dead,
        lambda: producer.cancel("one"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    # Reading records is allowed: giving a finished task's id to a new task reads them.
    info = producer.get("one")
    assert info is not None and info.status is Status.SCHEDULED


def test_admin_acl_does_everything_on_the_namespace(acl_users: AclUsers, namespace: str) -> None:
    admin = make(acl_users, "admin", retry=RetryPolicy(max_attempts=1))
    tid = admin.schedule_task(time.time() + 60, {"a": 1}, task_type="t")
    admin.schedule_many([NewTask(time.time() + 60, task_type="t") for _ in range(1200)])
    admin.reschedule(tid, time.time() + 90)
    assert admin.cancel(tid)
    admin.schedule_recurring("r", "0 3 * * *", task_type="t")
    assert set(admin.recurring()) == {"r"}
    admin.tick_cron()
    assert admin.unschedule_recurring("r")
    admin.schedule_task(0, task_type="boom", task_id="dies")
    worker = Worker(admin, {"boom": lambda task: 1 / 0}, concurrency=1)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        wait_until(lambda: admin.stats().dead == 1)
    finally:
        worker.stop()
        thread.join(15)
    assert [d.task_id for d in admin.dead_letters()] == ["dies"]
    admin.retry_dead("dies")
    info = admin.get("dies")
    assert info is not None and info.status is Status.SCHEDULED
    admin.cancel("dies")
    assert admin.purge_dead() == 0
    assert acl_users.refusals(IGNORED_REFUSALS) == []


def test_the_patterns_people_try_instead_are_refused(acl_users: AclUsers, namespace: str) -> None:
    producer = readme_acl()["producer"]
    no_prefix = producer.replace("~dt:{shop}:tasks ~dt:{shop}:due", "~{shop}*")
    with pytest.raises(PermissionDenied, match="keys"):
        acl_users.make(no_prefix).schedule_task(0, task_type="t")


def test_a_refused_wake_up_does_not_fail_the_schedule(acl_users: AclUsers, namespace: str) -> None:
    """Without channel rights (Redis 7's default) the task is stored and the call returns:
    raising after the write would make a retrying producer create a duplicate."""
    no_channel = readme_acl()["producer"].replace(" &dt:{shop}:*", "")
    producer = acl_users.make(no_channel)
    tid = producer.schedule_task(0, task_type="t")
    admin = make(acl_users, "admin")
    info = admin.get(tid)
    assert info is not None and info.status is Status.SCHEDULED
    assert admin.stats().due == 1
    assert acl_users.refusals(IGNORED_REFUSALS) == [f"channel:dt:{{{namespace}}}:wake"]
