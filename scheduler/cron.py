"""Recurring schedules: each slot fires once, whichever processes tick and die.

A schedule's next slot lives in Redis (``cron:next``). Any process may tick: it
reads the slots that are due and fires each with a compare-and-set on the next
slot (``fire_cron.lua``), so concurrent tickers fire a slot once. The fired
task's id is derived from the schedule name and the slot, so even a slot fired
twice collapses into one task.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import croniter

from . import validation
from .errors import (
    CorruptRecord,
    InvalidInput,
    PermissionDenied,
    RedisUnavailable,
    RefusalLog,
    redis_errors,
)
from .record import Record, Status
from .results import Result

if TYPE_CHECKING:
    from .client import Scheduler

log = logging.getLogger("duetime.cron")

MISFIRE_POLICIES = ("run_once", "skip")
# A slot fired up to this late is on time (a ticker restarting, a slow network);
# a slot found later than this was missed and the misfire policy applies.
MISFIRE_GRACE_MS = 5_000
# Tickers look for newly registered schedules at least this often.
DEFAULT_MAX_WAIT_S = 1.0
# A ticker Redis refuses (ACL, credentials) retries from a second up to this, slowly,
# since only someone changing the ACL ends the refusal.
MAX_REFUSED_BACKOFF_S = 30.0
_TICK_BATCH = 100


@dataclass(frozen=True)
class RecurringSchedule:
    """A validated recurring schedule."""

    name: str
    cron: str
    task_type: str
    payload: str
    timezone: str
    misfire: str
    max_attempts: int

    @classmethod
    def create(
        cls,
        *,
        name: str,
        cron: str,
        task_type: str,
        task_data: Any,
        timezone: str,
        misfire: str,
        max_attempts: int,
        payload_limit: int,
    ) -> RecurringSchedule:
        if not isinstance(misfire, str) or misfire not in MISFIRE_POLICIES:
            raise InvalidInput(f"misfire must be one of {MISFIRE_POLICIES}, not {misfire!r}")
        validation.timezone(timezone)
        return cls(
            name=validation.schedule_name(name),
            cron=validation.cron_expression(cron),
            task_type=validation.task_type(task_type),
            payload=validation.payload(task_data, payload_limit),
            timezone=timezone,
            misfire=misfire,
            max_attempts=validation.max_attempts(max_attempts),
        )

    def to_json(self) -> str:
        fields = {k: v for k, v in self.__dict__.items() if k != "name"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, name: str, text: str | bytes) -> RecurringSchedule:
        """The spec stored as ``text``; raises :class:`CorruptRecord` saying why it cannot be
        read (not JSON, missing or unknown fields, values ``create`` would refuse)."""
        try:
            fields = json.loads(text)
            if not isinstance(fields, dict):
                raise TypeError(f"a JSON {type(fields).__name__}, not an object")
            spec = cls(name=name, **fields)
            RecurringSchedule.create(
                name=name,
                cron=spec.cron,
                task_type=spec.task_type,
                task_data=spec.task_data,
                timezone=spec.timezone,
                misfire=spec.misfire,
                max_attempts=spec.max_attempts,
                payload_limit=sys.maxsize,
            )
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise CorruptRecord(f"unreadable recurring schedule {name!r}: {exc}") from None
        return spec

    @property
    def task_data(self) -> Any:
        return json.loads(self.payload)

    def _iter(self, start_ms: int | float) -> croniter:
        start = dt.datetime.fromtimestamp(start_ms / 1000, ZoneInfo(self.timezone))
        return croniter(self.cron, start, second_at_beginning=True)

    def next_after(self, ms: int) -> int:
        """The first slot strictly after ``ms`` (epoch ms)."""
        return round(self._iter(ms).get_next(float) * 1000)

    def latest_at_or_before(self, ms: int) -> int:
        """The last slot at or before ``ms``."""
        return round(self._iter((ms // 1000 + 1) * 1000).get_prev(float) * 1000)

    def task_id(self, slot_ms: int) -> str:
        return f"cron:{self.name}:{slot_ms}"


class CronTicker:
    """Registers schedules and fires their due slots, on behalf of a Scheduler."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._s = scheduler

    def register(self, spec: RecurringSchedule) -> None:
        keys = self._s.keys
        first = spec.next_after(self._s.now_ms())
        with redis_errors("schedule_recurring"):
            self._s.scripts.run(
                "register_cron",
                [keys.cron, keys.cron_next, keys.cron_unreadable],
                [spec.name, spec.to_json(), first],
            )

    def unregister(self, name: str) -> bool:
        with redis_errors("unschedule_recurring"):
            pipe = self._s.redis.pipeline(transaction=True)
            pipe.hdel(self._s.keys.cron, name)
            pipe.zrem(self._s.keys.cron_next, name)
            pipe.hdel(self._s.keys.cron_unreadable, name)
            removed, _, set_aside = pipe.execute()
        return bool(removed or set_aside)

    def all(self) -> dict[str, tuple[RecurringSchedule, float | None]]:
        with redis_errors("recurring"):
            pipe = self._s.redis.pipeline(transaction=True)
            pipe.hgetall(self._s.keys.cron)
            pipe.zrange(self._s.keys.cron_next, 0, -1, withscores=True)
            specs, nexts = pipe.execute()
        slots = {name: score / 1000 for name, score in nexts}
        out: dict[str, tuple[RecurringSchedule, float | None]] = {}
        for name, text in specs.items():
            try:
                out[name.decode()] = (
                    RecurringSchedule.from_json(name.decode(), text),
                    slots.get(name),
                )
            except (CorruptRecord, UnicodeDecodeError):
                continue  # listed by unreadable()
        return out

    def unreadable(self) -> dict[str, tuple[str, bytes]]:
        """Specs that cannot be read: name -> (why, the spec's raw bytes). Those set aside,
        and those no ticker has found yet."""
        with redis_errors("unreadable_recurring"):
            pipe = self._s.redis.pipeline(transaction=True)
            pipe.hgetall(self._s.keys.cron)
            pipe.hgetall(self._s.keys.cron_unreadable)
            specs, set_aside = pipe.execute()
        out: dict[str, tuple[str, bytes]] = {}
        for raw_name, text in specs.items():
            name = raw_name.decode(errors="backslashreplace")
            try:
                RecurringSchedule.from_json(raw_name.decode(), text)
            except (CorruptRecord, UnicodeDecodeError) as exc:
                out[name] = (str(exc), text)
        for raw_name, value in set_aside.items():
            reason, _, text = value.partition(b"\n")
            out[raw_name.decode(errors="backslashreplace")] = (
                reason.decode(errors="replace"),
                text,
            )
        return out

    def tick(self) -> float:
        """Fire what is due; return seconds until the next slot (capped at an hour)."""
        keys = self._s.keys
        with redis_errors("tick_cron"):
            while True:
                now = self._s.now_ms()
                due: list[tuple[bytes, float]] = self._s.redis.zrangebyscore(  # type: ignore[assignment]
                    keys.cron_next, "-inf", now, start=0, num=_TICK_BATCH, withscores=True
                )
                if not due:
                    break
                names = [n for n, _ in due]
                specs: list[bytes | None] = self._s.redis.hmget(keys.cron, names)  # type: ignore[assignment]
                for name, (_, slot), text in zip(names, due, specs, strict=False):
                    if text is None:
                        self._s.redis.zrem(keys.cron_next, name)
                        continue
                    try:
                        spec = RecurringSchedule.from_json(name.decode(), text)
                        spec.next_after(int(slot))
                    except (CorruptRecord, UnicodeDecodeError, ValueError, KeyError) as exc:
                        self._set_aside(name, text, str(exc))
                        continue
                    self._fire(spec, int(slot), now)
            head: list[tuple[bytes, float]] = self._s.redis.zrange(  # type: ignore[assignment]
                keys.cron_next, 0, 0, withscores=True
            )
        if not head:
            return 3600.0
        return max(0.0, min(3600.0, (head[0][1] - self._s.now_ms()) / 1000))

    def _set_aside(self, name: bytes, text: bytes, reason: str) -> None:
        """Move an unreadable spec out of the way of the others, logging it once."""
        keys = self._s.keys
        code = self._s.scripts.run(
            "quarantine_cron",
            [keys.cron, keys.cron_next, keys.cron_unreadable],
            [name, text, reason],
        )
        if code == Result.OK:
            log.error(
                "%s: set aside, it no longer fires; every other schedule does. Its raw spec "
                "is kept: unreadable_recurring() lists it, schedule_recurring() of the same "
                "name replaces it",
                reason,
            )

    def _fire(self, spec: RecurringSchedule, slot: int, now: int) -> None:
        if now - slot <= MISFIRE_GRACE_MS:
            fire: int | None = slot
            following = spec.next_after(slot)
        else:
            latest = spec.latest_at_or_before(now)
            following = spec.next_after(now)
            on_time = now - latest <= MISFIRE_GRACE_MS
            fire = latest if spec.misfire == "run_once" or on_time else None
            log.warning(
                "schedule %r missed slots from %d ms to %d ms; policy %s: %s",
                spec.name,
                slot,
                latest,
                spec.misfire,
                "firing once for the newest" if fire is not None else "skipping them",
            )
        keys = self._s.keys
        record = (
            ""
            if fire is None
            else Record(
                Status.SCHEDULED, 0, spec.max_attempts, fire, spec.task_type, spec.payload
            ).encode()
        )
        self._s.scripts.run(
            "fire_cron",
            [keys.cron, keys.cron_next, keys.tasks, keys.due],
            [
                spec.name,
                slot,
                following,
                keys.wake,
                "" if fire is None else spec.task_id(fire),
                fire or 0,
                record,
            ],
        )

    def run(self, stop: threading.Event, max_wait_s: float = DEFAULT_MAX_WAIT_S) -> None:
        refusals = RefusalLog(log, "cron ticker", MAX_REFUSED_BACKOFF_S)
        refused_wait = 0.0
        while not stop.is_set():
            try:
                wait = min(self.tick(), max_wait_s)
                refused_wait = 0.0
                refusals.allowed()
            except PermissionDenied as exc:
                # Not capped by max_wait_s: only an ACL change ends a refusal.
                refused_wait = min(MAX_REFUSED_BACKOFF_S, max(1.0, refused_wait * 2))
                refusals.refused(exc)
                wait = refused_wait
            except RedisUnavailable as exc:
                log.warning("cron tick failed, will retry: %s", exc)
                wait = min(0.5, max_wait_s)
            except Exception:  # a ticker must outlive a bad schedule or a closed client
                log.exception("cron tick failed, will retry")
                wait = min(1.0, max_wait_s)
            stop.wait(wait)
