"""Recurring schedules: once per slot across tickers, misfire policies, time zones."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from duetime import Scheduler, worker_protocol
from duetime.chaos.system.redis_server import RedisServer
from duetime.cron import RecurringSchedule
from duetime.results import Result
from tests.conftest import ROOT, Clock, Executions, WorkerProcesses


def cron_task_slots(s: Scheduler, name: str) -> list[int]:
    ids = [k.decode() for k in s.redis.hkeys(s.schedule_keys(name).tasks)]
    return sorted(int(i.rsplit(":", 1)[1]) for i in ids if i.startswith(f"cron:{name}:"))


def test_registering_again_keeps_the_next_slot(clocked: Scheduler, clock: Clock) -> None:
    clocked.schedule_recurring("r", "*/10 * * * * *", task_type="t")
    (_, nxt) = clocked.recurring()["r"]
    clock.advance(3)
    clocked.schedule_recurring("r", "*/10 * * * * *", task_type="t")
    assert clocked.recurring()["r"][1] == nxt
    clocked.schedule_recurring("r", "*/20 * * * * *", task_type="t")  # changed: replaced
    spec, _ = clocked.recurring()["r"]
    assert spec.cron == "*/20 * * * * *"


@pytest.mark.topologies(quick=True)
def test_each_slot_fires_once_across_concurrent_tickers(
    redis_server: object, namespace: str, clock: Clock
) -> None:
    tickers = [
        Scheduler.from_url(redis_server.url, namespace=namespace, clock=clock)  # type: ignore[attr-defined]
        for _ in range(4)
    ]
    for s in tickers:
        s.schedule_recurring("every2s", "*/2 * * * * *", task_type="t", task_data={"k": 1})
    start = clock.ms
    for _ in range(20):
        clock.advance(0.5)
        threads = [threading.Thread(target=s.tick_cron) for s in tickers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    slots = cron_task_slots(tickers[0], "every2s")
    expected = list(range((start // 2000 + 1) * 2000, clock.ms + 1, 2000))
    assert slots == expected


def test_fired_task_is_due_at_its_slot(clocked: Scheduler, clock: Clock) -> None:
    clocked.schedule_recurring("r", "*/5 * * * * *", task_type="report", task_data={"x": 1})
    slot = (clock.ms // 5000 + 1) * 5000
    clock.ms = slot
    clocked.tick_cron()
    (task,) = worker_protocol.claim(clocked, 1000, 10).tasks
    assert task.task_id == f"cron:r:{slot}" and task.due_at == slot / 1000
    assert task.data == {"x": 1} and task.task_type == "report"


@pytest.mark.topologies
def test_slots_missed_while_everything_was_down_run_once(clocked: Scheduler, clock: Clock) -> None:
    clocked.schedule_recurring("r", "* * * * * *", task_type="t")  # every second
    clock.advance(60)  # nobody ticked for a minute
    clocked.tick_cron()
    slots = cron_task_slots(clocked, "r")
    assert slots == [clock.ms // 1000 * 1000]  # once, for the newest missed slot
    clock.advance(1)
    clocked.tick_cron()
    assert len(cron_task_slots(clocked, "r")) == 2  # then back on schedule


def test_slots_missed_under_skip_policy_do_not_run(clocked: Scheduler, clock: Clock) -> None:
    clocked.schedule_recurring("r", "*/10 * * * * *", task_type="t", misfire="skip")
    clock.ms = (clock.ms // 10_000 + 5) * 10_000 + 7000  # newest slot is 7 s old
    clocked.tick_cron()
    assert cron_task_slots(clocked, "r") == []
    clock.ms = (clock.ms // 10_000 + 1) * 10_000 + 200  # the next slot, 0.2 s late
    clocked.tick_cron()
    assert cron_task_slots(clocked, "r") == [clock.ms // 10_000 * 10_000]


def test_a_short_hiccup_fires_every_slot(clocked: Scheduler, clock: Clock) -> None:
    clocked.schedule_recurring("r", "* * * * * *", task_type="t")
    first = (clock.ms // 1000 + 1) * 1000
    clock.ms = first + 3500  # 3.5 s late: within the grace, so each slot still fires
    clocked.tick_cron()
    assert cron_task_slots(clocked, "r") == [first, first + 1000, first + 2000, first + 3000]


def test_time_zone_and_daylight_saving(clocked: Scheduler, clock: Clock) -> None:
    madrid = ZoneInfo("Europe/Madrid")
    clock.ms = int(dt.datetime(2026, 3, 28, 12, tzinfo=madrid).timestamp() * 1000)
    clocked.schedule_recurring("nightly", "0 3 * * *", task_type="report", timezone="Europe/Madrid")
    for _ in range(3):
        _, nxt = clocked.recurring()["nightly"]
        assert nxt is not None
        clock.ms = int(nxt * 1000)
        clocked.tick_cron()
    fired = [
        dt.datetime.fromtimestamp(s / 1000, madrid) for s in cron_task_slots(clocked, "nightly")
    ]
    assert [(f.day, f.hour, f.utcoffset()) for f in fired] == [
        (29, 3, dt.timedelta(hours=2)),  # the night clocks went forward
        (30, 3, dt.timedelta(hours=2)),
        (31, 3, dt.timedelta(hours=2)),
    ]


def test_unscheduled_schedule_stops_firing(clocked: Scheduler, clock: Clock) -> None:
    clocked.schedule_recurring("r", "* * * * * *", task_type="t")
    assert clocked.unschedule_recurring("r") is True
    assert clocked.unschedule_recurring("r") is False
    clock.advance(5)
    clocked.tick_cron()
    assert cron_task_slots(clocked, "r") == [] and clocked.recurring() == {}


@pytest.mark.topologies
def test_cron_processes_killed_and_restarted_fire_each_slot_once(
    redis_server: object,
    namespace: str,
    workers: WorkerProcesses,
    executions: Executions,
) -> None:
    url = redis_server.url  # type: ignore[attr-defined]
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.scheduler.cron_process",
                url,
                namespace,
                "sec",
                "* * * * * *",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )

    workers.start(lease=2.0, extra=("--no-cron",))
    tickers = [start() for _ in range(3)]
    try:
        time.sleep(2.5)
        for i in range(3):  # kill one at a time; at least one stays alive
            tickers[i].send_signal(signal.SIGKILL)
            tickers[i].wait()
            time.sleep(1.2)
            tickers[i] = start()
        time.sleep(2.0)
    finally:
        for t in tickers:
            t.send_signal(signal.SIGKILL)
            t.wait()
    s = Scheduler.from_url(url, namespace=namespace)
    slots = cron_task_slots(s, "sec")
    assert len(slots) >= 7
    assert slots == list(range(slots[0], slots[-1] + 1, 1000)), "a slot was missed"
    done = executions.wait_for(lambda ev: len([e for e in ev if e["event"] == "end"]) >= len(slots))
    ran = [e["task_id"] for e in done if e["event"] == "end"]
    assert len(ran) == len(set(ran)) == len(slots), "a slot ran twice"


def read_as_ticker(s: Scheduler, name: str) -> tuple[RecurringSchedule, str]:
    """A spec and its version, read as ``tick`` reads them."""
    (version,), (text,) = s._cron._read_versioned(s.keys, [name])
    assert text is not None
    return RecurringSchedule.from_json(name, text), (version or b"0").decode()


def test_a_ticker_holding_the_old_spec_cannot_fire_it(clocked: Scheduler, clock: Clock) -> None:
    clocked.schedule_recurring("r", "*/10 * * * * *", task_type="t", task_data={"v": 1})
    _, nxt = clocked.recurring()["r"]
    slot = int(nxt * 1000)  # type: ignore[operator]
    clock.ms = slot
    old, version = read_as_ticker(clocked, "r")  # a ticker reads the due slot's spec ...
    clock.ms = slot - 1  # ... and another process, a millisecond behind, changes the data:
    clocked.schedule_recurring("r", "*/10 * * * * *", task_type="t", task_data={"v": 2})
    assert clocked.recurring()["r"][1] == nxt  # same expression: the same next slot
    clock.ms = slot
    assert (
        clocked._cron._fire(clocked.keys, old, version, slot, slot) == Result.REFUSED
    )  # stale version
    assert cron_task_slots(clocked, "r") == []
    clocked.tick_cron()
    info = clocked.get(f"cron:r:{slot}")
    assert info is not None and info.data == {"v": 2}


def test_a_spec_stored_without_a_version_still_fires_and_can_change(
    clocked: Scheduler, clock: Clock
) -> None:
    spec = RecurringSchedule.create(
        name="old", cron="*/10 * * * * *", task_type="t", task_data=None,
        timezone="UTC", misfire="run_once", max_attempts=3, payload_limit=1000,
    )  # fmt: skip
    slot = spec.next_after(clock.ms)
    clocked.redis.hset(clocked.keys.cron, "old", spec.to_json())  # as stored before versions
    clocked.redis.zadd(clocked.keys.cron_next, {"old": slot})
    clock.ms = slot
    clocked.tick_cron()
    assert cron_task_slots(clocked, "old") == [slot]
    clocked.schedule_recurring("old", "*/20 * * * * *", task_type="t")
    assert clocked.redis.hget(clocked.keys.cron_version, "old") == b"1"
    assert clocked.recurring()["old"][0].cron == "*/20 * * * * *"


@pytest.mark.parametrize(
    ("misfire", "late_s", "fired_late"),
    [
        ("run_once", 67, [60]),  # slots 0..60 missed, the newest 7 s old: fires once, late
        ("skip", 67, []),  # the same, skipped
        ("run_once", 3, [0]),  # 3 s late is within the grace: not a miss, it fires
        ("skip", 3, [0]),
    ],
)
def test_changing_a_schedule_applies_the_misfire_policy_to_its_unfired_slots(
    clocked: Scheduler, clock: Clock, misfire: str, late_s: int, fired_late: list[int]
) -> None:
    clocked.schedule_recurring("r", "*/10 * * * * *", task_type="old", misfire=misfire)
    _, nxt = clocked.recurring()["r"]
    first = int(nxt * 1000)  # type: ignore[operator]
    clock.ms = first + late_s * 1000  # nobody ticked; now the spec changes
    clocked.schedule_recurring("r", "*/7 * * * * *", task_type="new", misfire=misfire)
    assert cron_task_slots(clocked, "r") == [first + s * 1000 for s in fired_late]
    for slot in cron_task_slots(clocked, "r"):
        info = clocked.get(f"cron:r:{slot}")
        assert info is not None and info.task_type == "old"
    spec, nxt = clocked.recurring()["r"]
    assert spec.task_type == "new" and nxt == spec.next_after(clock.ms) / 1000


@pytest.mark.parametrize(("misfire", "fired_after_jump"), [("run_once", [90]), ("skip", [])])
def test_redis_time_jumping_forward_past_the_grace_applies_the_misfire_policy(
    clocked: Scheduler, clock: Clock, misfire: str, fired_after_jump: list[int]
) -> None:
    clocked.schedule_recurring("r", "*/10 * * * * *", task_type="t", misfire=misfire)
    _, nxt = clocked.recurring()["r"]
    first = int(nxt * 1000)  # type: ignore[operator]
    clock.ms = first
    clocked.tick_cron()
    clock.ms = first + 97_000  # TIME jumps 97 s: slots 10..90 missed, the newest 7 s old
    clocked.tick_cron()
    clocked.tick_cron()
    expected = [0, *fired_after_jump]
    assert cron_task_slots(clocked, "r") == [first + s * 1000 for s in expected]
    clock.ms = first + 100_000
    clocked.tick_cron()  # and then back on schedule
    assert cron_task_slots(clocked, "r") == [first + s * 1000 for s in [*expected, 100]]


def test_redis_time_jumping_backward_fires_nothing_twice_nor_early(
    clocked: Scheduler, clock: Clock
) -> None:
    clocked.schedule_recurring("r", "*/10 * * * * *", task_type="t")
    _, nxt = clocked.recurring()["r"]
    first = int(nxt * 1000)  # type: ignore[operator]
    for at in (first, first + 10_000):
        clock.ms = at
        clocked.tick_cron()
    clock.ms = first - 25_000  # TIME jumps back 35 s, past slots that already fired
    while clock.ms < first + 20_000:
        clocked.tick_cron()
        fired = cron_task_slots(clocked, "r")
        assert fired == [first, first + 10_000], "a slot fired twice, or the next one early"
        clock.advance(1)
    clock.ms = first + 20_000
    clocked.tick_cron()  # the schedule resumes at its next slot
    assert cron_task_slots(clocked, "r") == [first, first + 10_000, first + 20_000]


def test_a_cron_process_says_it_is_alive_with_a_heartbeat(
    redis_server: RedisServer, sched: Scheduler, tmp_path: Path
) -> None:
    sched.schedule_recurring("sec", "* * * * * *", task_type="t")
    flags = ["--url", redis_server.url, "--namespace", sched.namespace, "--heartbeat", "1"]
    err = tmp_path / "cron.err"
    with err.open("wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "duetime", "cron", *flags],
            cwd=ROOT,
            stderr=f,
            start_new_session=True,
        )

    def beats() -> list[str]:
        return [x for x in err.read_text().splitlines() if "duetime.cron: cron: " in x]

    try:
        deadline = time.monotonic() + 8
        while len(beats()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    lines = err.read_text().splitlines()
    assert "INFO duetime.cron: cron ticker started: " in lines[0], lines
    assert lines[0].endswith("a heartbeat line every 1s")
    first, second = beats()[:2]
    apart = dt.datetime.strptime(second[:23], "%Y-%m-%d %H:%M:%S,%f") - dt.datetime.strptime(
        first[:23], "%Y-%m-%d %H:%M:%S,%f"
    )
    assert 0.9 <= apart.total_seconds() <= 1.5, (first, second)
    assert "INFO duetime.cron: cron: 1 schedule, " in second
    said = r"1 schedule, \d+ slots? fired in the last 1s, next slot 'sec' at 20"
    assert re.search(said, second), second
    assert lines[-1].endswith("cron ticker stopped")
