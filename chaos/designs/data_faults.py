"""Each design's data faults, in its own key layout, keyed by strategy name.

- How to write a *poisoned* task record (the ``poison_records`` nemesis): one another
  program, a restore or a manual edit could leave, due now. The kinds:
  ``invalid_json`` (a payload that is not JSON), ``non_utf8_type`` (bytes that are not
  UTF-8 where the task type is, or in the payload of designs that keep the type in a key
  name), ``unparseable`` (a record not in the design's format at all) and
  ``unknown_status`` (the reference's header with a status letter it never writes; the
  published designs keep no status, so they get none of that kind).
- How to write a poisoned recurring-schedule spec: only designs that keep their
  schedules in Redis have one (the reference); the others run cron in process.
- Which errors of a full Redis mean a schedule call wrote nothing, so the producer
  records ``fail``: the reference documents ``RedisFull`` as "nothing was written"; a
  published design that writes a task in two commands can be refused half way, so its
  errors stay indeterminate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import redis

from duetime import Scheduler
from duetime.errors import RedisFull
from duetime.keys import Keys

from . import (
    DESIGNS,
    batch_dispatcher,
    idempotency_keys,
    poll_remove_run,
    priority_score,
    watch_dispatcher,
)
from .contract import DesignClient
from .reference import ReferenceClient

POISON_KINDS = ("invalid_json", "non_utf8_type", "unparseable", "unknown_status")
TASK_TYPE = "chaos"  # duetime.chaos.client.handlers.TASK_TYPE: the type the workers handle

# (client, namespace, task id, kind, due in epoch seconds) -> whether this design has the kind.
Poisoner = Callable[[redis.Redis, str, str, str, float], bool]
# (client, namespace, schedule name) -> whether this design keeps specs in Redis.
CronPoisoner = Callable[[redis.Redis, str, str], bool]


def _reference(r: redis.Redis, namespace: str, task_id: str, kind: str, due_s: float) -> bool:
    keys = Keys(namespace)
    due_ms = int(due_s * 1000)
    record = {
        "invalid_json": f"P|0|5|{due_ms}|{TASK_TYPE}|0\n{{not json".encode(),
        "non_utf8_type": f"P|0|5|{due_ms}|".encode() + b"chaos\xff|0\n{}",
        "unparseable": b"not a duetime record",
        "unknown_status": f"Z|0|5|{due_ms}|{TASK_TYPE}|0\n{{}}".encode(),
    }[kind]
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.tasks, task_id, record)
    pipe.zadd(keys.due, {task_id: due_ms})
    pipe.execute()
    return True


def _reference_cron(r: redis.Redis, namespace: str, name: str) -> bool:
    keys = Keys(namespace)
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.cron, name, b"{not json")
    pipe.zadd(keys.cron_next, {name: 0})
    pipe.execute()
    return True


def _poll_remove_run(r: redis.Redis, namespace: str, task_id: str, kind: str, due_s: float) -> bool:
    if kind == "unknown_status":
        return False
    key = poll_remove_run.hash_key(namespace, TASK_TYPE, task_id)
    pipe = r.pipeline(transaction=True)
    if kind == "unparseable":
        pipe.set(key, b"not a hash")  # the poller's HGETALL gets WRONGTYPE
    else:
        data = b"{not json" if kind == "invalid_json" else b"\xff{}"
        pipe.hset(key, mapping={"data": data, "scheduleDate": str(due_s)})
    pipe.zadd(poll_remove_run.set_key(namespace, TASK_TYPE), {task_id: int(due_s * 1000)})
    pipe.execute()
    return True


def _member(kind: str, task_id: str, entry: Mapping[str, object]) -> bytes | None:
    """A poisoned sorted-set member for the designs whose member is the serialized task."""
    if kind == "invalid_json":
        return f"{{not json {task_id}".encode()
    if kind == "non_utf8_type":
        text = json.dumps({**entry, "task_type": TASK_TYPE}, sort_keys=True).encode()
        return text.replace(b'"task_type": "chaos"', b'"task_type": "chaos\xff"')
    if kind == "unparseable":
        return json.dumps({"task_id": task_id}).encode()
    return None


def _watch_dispatcher(
    r: redis.Redis, namespace: str, task_id: str, kind: str, due_s: float
) -> bool:
    entry = {
        "queue": watch_dispatcher.queue_key(namespace, TASK_TYPE),
        "data": {},
        "task_id": task_id,
        "due_at": due_s,
    }
    member = _member(kind, task_id, entry)
    if member is None:
        return False
    r.zadd(watch_dispatcher.scheduled_key(namespace), {member: due_s})
    return True


def _batch_dispatcher(
    r: redis.Redis, namespace: str, task_id: str, kind: str, due_s: float
) -> bool:
    member = _member(kind, task_id, {"data": {}, "task_id": task_id, "due_at": due_s})
    if member is None:
        return False
    r.zadd(batch_dispatcher.new_tasks_key(namespace), {member: due_s})
    return True


def _idempotency_keys(
    r: redis.Redis, namespace: str, task_id: str, kind: str, due_s: float
) -> bool:
    if kind == "unknown_status":
        return False
    payload = {
        "invalid_json": b"{not json",
        "non_utf8_type": b'{"task_type": "chaos\xff", "data": {}, "due_at": %.3f}' % due_s,
        "unparseable": b"[]",
    }[kind]
    pipe = r.pipeline(transaction=True)
    pipe.set(idempotency_keys.payload_prefix(namespace) + task_id, payload)
    pipe.zadd(
        idempotency_keys.schedules_key(namespace), {task_id: idempotency_keys.score_of(due_s)}
    )
    pipe.execute()
    return True


def _client_retry(r: redis.Redis, namespace: str, task_id: str, kind: str, due_s: float) -> bool:
    entry = {"id": task_id, "data": {"task_id": task_id, "due_at": due_s, "data": {}}}
    member = _member(kind, task_id, {**entry, "retry": True, "retry_timeout": 1.0})
    if member is None:
        return False
    r.zadd(f"{namespace}:runs:{TASK_TYPE}", {member: int(due_s * 1000)})
    return True


def _priority_score(r: redis.Redis, namespace: str, task_id: str, kind: str, due_s: float) -> bool:
    entry = {"task_id": task_id, "data": {}, "due_at": due_s, "attempt": 1, "max_attempts": 1}
    member = _member(kind, task_id, entry)
    if member is None:
        return False
    # Due now and scored like a task due now with priority 1: at the top of the set.
    r.zadd(priority_score.tasks_key(namespace), {member: priority_score.effective_score(1.0, 0)})
    return True


def _no_cron_in_redis(r: redis.Redis, namespace: str, name: str) -> bool:
    return False


POISONERS: dict[str, Poisoner] = {
    "reference": _reference,
    "poll-remove-run": _poll_remove_run,
    "watch-dispatcher": _watch_dispatcher,
    "batch-dispatcher": _batch_dispatcher,
    "idempotency-keys": _idempotency_keys,
    "client-retry": _client_retry,
    "priority-score": _priority_score,
}
# A variant (NAME@source) keeps its design's key layout.
POISONERS.update({d.name: POISONERS[d.variant_of] for d in DESIGNS.values() if d.variant_of})
CRON_POISONERS: dict[str, CronPoisoner] = {"reference": _reference_cron}
# Errors of a full Redis after which a schedule call certainly wrote nothing.
FULL_REFUSALS: dict[str, tuple[type[BaseException], ...]] = {"reference": (RedisFull,)}


def poisoner(strategy: str) -> Poisoner:
    """How ``strategy`` (a ``--strategy`` name) gets a poisoned task record."""
    return POISONERS[strategy]


def cron_poisoner(strategy: str) -> CronPoisoner:
    """How ``strategy`` gets a poisoned recurring spec (a no-op without specs in Redis)."""
    return CRON_POISONERS.get(strategy, _no_cron_in_redis)


def open_evicting_client(strategy: str, url: str, namespace: str) -> DesignClient | None:
    """A producer client that accepts an evicting ``maxmemory-policy`` (the reference
    refuses one unless told), or None when ``strategy`` needs no such permission."""
    if strategy != "reference":
        return None
    return ReferenceClient(Scheduler.from_url(url, namespace=namespace, allow_eviction=True))
