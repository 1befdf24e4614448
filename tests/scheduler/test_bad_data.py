"""Bad data in Redis (restores, manual edits, another program): a record, a payload or a
recurring spec that cannot be read is set aside with its reason and raw bytes, and
nothing else stops. Also: records Redis lost are counted and logged."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time

import pytest

from duetime import Scheduler, Status, Worker, worker_protocol
from duetime.errors import InvalidState
from duetime.lease_events import LeaseChange
from duetime.worker import QUARANTINE_REASON
from tests.conftest import ROOT, Clock, Executions, WorkerProcesses


def plant(sched: Scheduler, task_id: bytes | str, record: bytes | str) -> None:
    """Put a record in Redis behind the library's back, due now."""
    r = sched.redis
    r.hset(sched.keys.tasks, task_id, record)
    r.zadd(sched.keys.due, {task_id: 0})


def test_unreadable_tasks_are_dead_lettered_and_their_batch_mates_run(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    plant(sched, "bad-json", "P|0|5|0|record\n{not json")
    plant(sched, "bad-type", b"P|0|5|0|rec\xff\n{}")
    plant(sched, b"bad-id-\xfe", "P|0|5|0|record\n{}")
    plant(sched, "bad-header", "no header at all")
    plant(sched, "bad-status", "Z|0|5|0|record\n{}")
    good = [sched.schedule_task(0, {}, task_type="record") for _ in range(4)]
    proc = workers.start(concurrency=8)
    executions.wait_for(lambda ev: {e["task_id"] for e in ev if e["event"] == "end"} == set(good))
    deadline = time.monotonic() + 10
    while sched.stats().dead < 5:
        assert time.monotonic() < deadline, sched.stats()
        time.sleep(0.05)
    time.sleep(0.3)
    assert proc.poll() is None, workers.stderr_of(proc)
    assert len(executions.events("start")) == 4  # no handler ran for a bad one

    dead = {d.task_id: d for d in sched.dead_letters()}
    assert set(dead) == {"bad-json", "bad-type", "bad-id-\\xfe", "bad-header", "bad-status"}
    assert "not valid JSON" in (dead["bad-json"].last_error or "")
    assert dead["bad-json"].status is Status.DEAD and dead["bad-json"].raw is not None
    assert dead["bad-json"].raw.endswith(b"\n{not json")
    assert dead["bad-header"].status is Status.UNREADABLE
    assert dead["bad-header"].raw == b"no header at all"
    assert "unreadable record" in (dead["bad-status"].last_error or "")
    assert "not UTF-8" in (dead["bad-type"].last_error or "")
    assert sched.stats().dead == 5 and sched.stats().due == 0

    err = workers.stderr_of(proc)
    assert "Traceback" not in err
    for tid in ("bad-json", "bad-type", "bad-id-\\xfe", "bad-header", "bad-status"):
        assert err.count(f"task {tid} ") == 1, err  # logged once

    out = subprocess.run(
        [sys.executable, "-m", "duetime", "dead", "list", "--namespace", sched.namespace],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "DUETIME_URL": sched.url or ""},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    listed = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(listed) == 5 and all(d["last_error"] for d in listed)


def test_admin_calls_report_an_unreadable_record(sched: Scheduler) -> None:
    sched.redis.hset(sched.keys.tasks, "garbage", b"\x00\x01 not a record")
    info = sched.get("garbage")
    assert info is not None and info.status is Status.UNREADABLE
    assert info.raw == b"\x00\x01 not a record" and "unreadable record" in (info.unreadable or "")
    with pytest.raises(InvalidState, match="cannot be read"):
        sched.cancel("garbage")
    with pytest.raises(InvalidState, match="cannot be read"):
        sched.reschedule("garbage", 0)

    plant(sched, "garbage2", "Q|1|2|3|t|4\n{}")
    got = worker_protocol.claim(sched, 30_000, 10)
    assert got.tasks == [] and got.quarantined == ["garbage2"]
    with pytest.raises(InvalidState, match="cannot be read"):
        sched.retry_dead("garbage2")
    assert [d.task_id for d in sched.dead_letters()] == ["garbage2"]
    assert sched.purge_dead("garbage2") == 1
    assert sched.get("garbage2") is None and sched.stats().dead == 0


def test_records_redis_lost_are_counted_and_logged(
    sched: Scheduler, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [sched.schedule_task(0, {}, task_type="t") for _ in range(5)]
    sched.redis.hdel(sched.keys.tasks, *ids[:3])  # as an eviction would
    ran: list[str] = []
    seen: list[LeaseChange] = []
    handlers = {"t": lambda task: ran.append(task.task_id)}
    worker = Worker(sched, handlers, cron=False, observer=seen.append)
    thread = threading.Thread(target=worker.run)
    with caplog.at_level(logging.ERROR, logger="duetime.worker"):
        thread.start()
        deadline = time.monotonic() + 10
        while len(ran) < 2 or sched.stats().in_flight:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        worker.stop()
        thread.join(timeout=10)
    assert sorted(ran) == sorted(ids[3:])
    assert sched.stats().lost == 3 and sched.stats().due == 0
    assert sum(c.count for c in seen if c.action == "lost") == 3  # the observer is told too
    lines = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
    assert lines == [
        "Redis lost 3 task records this scheduler indexed: eviction or data loss? (check "
        "maxmemory-policy is noeviction and how Redis persists; stats().lost counts them)"
    ]


def test_a_corrupt_recurring_spec_is_set_aside_and_the_others_fire(
    clocked: Scheduler, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    s = clocked
    s.schedule_recurring("good", "* * * * * *", task_type="t")
    for name, spec in (("bad-json", b"{not json"), ("bad-cron", b'{"cron": "nope"}')):
        s.redis.hset(s.keys.cron, name, spec)
        s.redis.zadd(s.keys.cron_next, {name: 0})
    assert set(s.recurring()) == {"good"}  # reported, not raised
    with caplog.at_level(logging.ERROR, logger="duetime.cron"):
        for _ in range(3):
            clock.advance(1)
            s.tick_cron()
    assert sum("set aside" in r.getMessage() for r in caplog.records) == 2  # once each
    assert s.stats().due == 3  # the good schedule fired every second
    bad = s.unreadable_recurring()
    assert set(bad) == {"bad-json", "bad-cron"} and bad["bad-json"][1] == b"{not json"
    assert "unreadable recurring schedule 'bad-cron'" in bad["bad-cron"][0]
    s.schedule_recurring("bad-cron", "* * * * * *", task_type="t")  # replaces it
    assert s.unschedule_recurring("bad-json")
    assert s.unreadable_recurring() == {} and set(s.recurring()) == {"good", "bad-cron"}


def test_the_observer_is_told_of_each_task_set_aside_unread_with_its_reason(
    sched: Scheduler,
) -> None:
    plant(sched, "bad-json", "P|0|5|0|t\n{not json")
    plant(sched, "bad-header", "no header at all")
    plant(sched, "bad-status", "Z|0|5|0|t\n{}")
    seen: list[LeaseChange] = []
    worker = Worker(sched, {"t": lambda task: None}, concurrency=4, lease_s=1, observer=seen.append)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while sched.stats().dead < 3:
            assert time.monotonic() < deadline, sched.stats()
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(timeout=10)
    set_aside = {c.task_id: c for c in seen if c.reason}
    assert set(set_aside) == {"bad-json", "bad-header", "bad-status"}
    assert set_aside["bad-json"].action == "fail" and "JSON" in set_aside["bad-json"].reason
    for tid in ("bad-header", "bad-status"):
        change = set_aside[tid]
        assert (change.action, change.token, change.accepted) == ("quarantine", 0, True)
        assert change.reason == QUARANTINE_REASON
