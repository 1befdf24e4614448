"""Bad input gets a clear error and writes nothing."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from duetime import InvalidInput, Limits, NewTask, Scheduler


def assert_nothing_written(s: Scheduler) -> None:
    # Every key of a namespace carries its hash tag.
    assert list(s.redis.scan_iter(match=f"*{{{s.namespace}}}*")) == []


@pytest.mark.parametrize(
    ("timestamp", "message"),
    [
        (math.nan, "finite"),
        (math.inf, "finite"),
        (-1, "negative"),
        (True, "not bool"),
        ("1767225600", "not str"),
        (None, "not NoneType"),
        (dt.datetime(2030, 1, 1), "naive datetime"),
        (1e13, "after the year 9999"),
    ],
)
def test_bad_timestamps_are_rejected(sched: Scheduler, timestamp: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        sched.schedule_task(timestamp, {"a": 1})  # type: ignore[arg-type]
    assert_nothing_written(sched)


def test_aware_datetime_is_accepted(sched: Scheduler) -> None:
    when = dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    info = sched.get(sched.schedule_task(when, None))
    assert info is not None and info.due_at == when.timestamp()


@pytest.mark.parametrize("data", [{1, 2}, object(), {"x": math.nan}, b"bytes"])
def test_non_json_payload_is_rejected(sched: Scheduler, data: object) -> None:
    with pytest.raises(InvalidInput, match="JSON"):
        sched.schedule_task(1, data)
    assert_nothing_written(sched)


def test_oversized_payload_is_rejected(redis_server: object, namespace: str) -> None:
    s = Scheduler.from_url(
        redis_server.url,
        namespace=namespace,  # type: ignore[attr-defined]
        limits=Limits(max_payload_bytes=100),
    )
    s.schedule_task(1, "x" * 90)
    with pytest.raises(InvalidInput, match="limit is 100"):
        s.schedule_task(1, "x" * 200)
    assert s.stats().due == 1


@pytest.mark.parametrize(
    ("task_id", "message"), [("", "empty"), ("x" * 257, "longer"), (5, "string")]
)
def test_bad_task_ids_are_rejected(sched: Scheduler, task_id: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        sched.schedule_task(1, None, task_id=task_id)  # type: ignore[arg-type]
    assert_nothing_written(sched)


@pytest.mark.parametrize("task_type", ["", "a|b", "line\nbreak", "x" * 129, 3])
def test_bad_task_types_are_rejected(sched: Scheduler, task_type: object) -> None:
    with pytest.raises(InvalidInput, match="task_type"):
        sched.schedule_task(1, None, task_type=task_type)  # type: ignore[arg-type]
    assert_nothing_written(sched)


@pytest.mark.parametrize("n", [0, -1, 1001, True, 2.5])
def test_bad_max_attempts_are_rejected(sched: Scheduler, n: object) -> None:
    with pytest.raises(InvalidInput, match="max_attempts"):
        sched.schedule_task(1, None, max_attempts=n)  # type: ignore[arg-type]
    assert_nothing_written(sched)


def test_one_bad_task_in_a_batch_writes_none(sched: Scheduler) -> None:
    batch = [NewTask(1, {"i": i}) for i in range(10)] + [NewTask(math.nan, None)]
    with pytest.raises(InvalidInput):
        sched.schedule_many(batch)
    assert_nothing_written(sched)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cron": "not a cron"}, "5 or 6 fields"),
        ({"cron": "61 * * * *"}, "invalid cron"),
        ({"cron": "* * * * * * *"}, "5 or 6 fields"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"timezone": ""}, "timezone"),
        ({"misfire": "sometimes"}, "misfire"),
        ({"name": "bad name!"}, "schedule name"),
        ({"task_data": {1, 2}}, "JSON"),
    ],
)
def test_bad_recurring_schedules_are_rejected(
    sched: Scheduler, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"name": "nightly", "cron": "0 3 * * *", "task_type": "report"}
    args.update(kwargs)
    name = args.pop("name")
    cron = args.pop("cron")
    with pytest.raises(InvalidInput, match=message):
        sched.schedule_recurring(name, cron, **args)  # type: ignore[arg-type]
    assert_nothing_written(sched)


def test_bad_namespace_is_rejected(redis_server: object) -> None:
    with pytest.raises(InvalidInput, match="namespace"):
        Scheduler.from_url(redis_server.url, namespace="has space")  # type: ignore[attr-defined]


def test_timestamps_round_up_to_the_millisecond(sched: Scheduler) -> None:
    info = sched.get(sched.schedule_task(1.0001, None))
    assert info is not None and info.due_at == 1.001
