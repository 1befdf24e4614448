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
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import croniter

from . import validation
from .errors import InvalidInput, PermissionDenied, RedisUnavailable, RefusalLog, redis_errors
from .plural import counted
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
        return cls(name=name, **json.loads(text))

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
        # Slots this process fired, for the heartbeat line.
        self.fired = 0

    def register(self, spec: RecurringSchedule) -> None:
        keys = self._s.keys
        first = spec.next_after(self._s.now_ms())
        with redis_errors("schedule_recurring"):
            self._s.scripts.run(
                "register_cron", [keys.cron, keys.cron_next], [spec.name, spec.to_json(), first]
            )

    def unregister(self, name: str) -> bool:
        with redis_errors("unschedule_recurring"):
            pipe = self._s.redis.pipeline(transaction=True)
            pipe.hdel(self._s.keys.cron, name)
            pipe.zrem(self._s.keys.cron_next, name)
            removed, _ = pipe.execute()
        return bool(removed)

    def all(self) -> dict[str, tuple[RecurringSchedule, float | None]]:
        with redis_errors("recurring"):
            pipe = self._s.redis.pipeline(transaction=True)
            pipe.hgetall(self._s.keys.cron)
            pipe.zrange(self._s.keys.cron_next, 0, -1, withscores=True)
            specs, nexts = pipe.execute()
        slots = {name.decode(): score / 1000 for name, score in nexts}
        return {
            name.decode(): (
                RecurringSchedule.from_json(name.decode(), text),
                slots.get(name.decode()),
            )
            for name, text in specs.items()
        }

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
                names = [n.decode() for n, _ in due]
                specs: list[bytes | None] = self._s.redis.hmget(keys.cron, names)  # type: ignore[assignment]
                for name, (_, slot), text in zip(names, due, specs, strict=False):
                    if text is None:
                        self._s.redis.zrem(keys.cron_next, name)
                        continue
                    self._fire(RecurringSchedule.from_json(name, text), int(slot), now)
            head: list[tuple[bytes, float]] = self._s.redis.zrange(  # type: ignore[assignment]
                keys.cron_next, 0, 0, withscores=True
            )
        if not head:
            return 3600.0
        return max(0.0, min(3600.0, (head[0][1] - self._s.now_ms()) / 1000))

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
        won = self._s.scripts.run(
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
        if won == Result.OK and fire is not None:
            self.fired += 1

    def heartbeat(self, period_s: float) -> None:
        """Log one line: the schedules, the slots fired since the last line, the next slot."""
        with redis_errors("cron heartbeat"):
            nexts: list[tuple[bytes, float]] = self._s.redis.zrange(  # type: ignore[assignment]
                self._s.keys.cron_next, 0, -1, withscores=True
            )
        fired, self.fired = self.fired, 0
        if not nexts:
            log.info(
                "cron: no recurring schedule in namespace %r; %s in the last %.0fs",
                self._s.namespace,
                counted(fired, "slot fired", "slots fired"),
                period_s,
            )
            return
        name, slot = nexts[0]
        at = dt.datetime.fromtimestamp(slot / 1000, dt.timezone.utc).isoformat(timespec="seconds")
        log.info(
            "cron: %s, %s in the last %.0fs, next slot %r at %s",
            counted(len(nexts), "schedule"),
            counted(fired, "slot fired", "slots fired"),
            period_s,
            name.decode(),
            at,
        )

    def run(
        self,
        stop: threading.Event,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        heartbeat_s: float | None = None,
    ) -> None:
        refusals = RefusalLog(log, "cron ticker", MAX_REFUSED_BACKOFF_S)
        refused_wait = 0.0
        next_beat = None if heartbeat_s is None else time.monotonic() + heartbeat_s
        while not stop.is_set():
            try:
                wait = min(self.tick(), max_wait_s)
                if next_beat is not None and heartbeat_s:
                    if time.monotonic() >= next_beat:
                        self.heartbeat(heartbeat_s)
                        next_beat = time.monotonic() + heartbeat_s
                    wait = min(wait, max(0.0, next_beat - time.monotonic()))
                refused_wait = 0.0
                refusals.allowed()
                self._s.outage.recovered()
            except PermissionDenied as exc:
                # Not capped by max_wait_s: only an ACL change ends a refusal.
                refused_wait = min(MAX_REFUSED_BACKOFF_S, max(1.0, refused_wait * 2))
                refusals.refused(exc)
                wait = refused_wait
            except RedisUnavailable as exc:
                self._s.outage.failed(exc)
                wait = min(0.5, max_wait_s)
            except Exception:  # a ticker must outlive a bad schedule or a closed client
                log.exception("cron tick failed, will retry")
                wait = min(1.0, max_wait_s)
            stop.wait(wait)
