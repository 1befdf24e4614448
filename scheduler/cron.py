"""Recurring schedules: each slot fires once, whichever processes tick and die.

A schedule's next slot lives in Redis (``cron:next``). Any process may tick: it
reads the slots that are due and fires each with a compare-and-set on the next
slot (``fire_cron.lua``), so concurrent tickers fire a slot once. The fired
task's id is derived from the schedule name and the slot, so even a slot fired
twice collapses into one task.

Each spec has a version (``cron:version``), bumped whenever the spec changes. A
ticker reads the version, then the spec, and the firing must still match that
version, so a ticker that read the old spec cannot fire it, nor write a next slot
computed from the old expression, once the spec changed.

In a sharded namespace a schedule, its next slot and its version live on the shard of
its name, as do the tasks of its slots (:mod:`duetime.keys`), so that firing stays one
atomic script; a ticker ticks every shard, each by that shard's clock.

Where the slots fall across daylight-saving changes: :mod:`duetime.slots`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import validation
from .errors import (
    CorruptRecord,
    InvalidInput,
    PermissionDenied,
    RedisUnavailable,
    RefusalLog,
    SchedulerError,
    redis_errors,
)
from .plural import counted
from .record import Record, Status
from .results import Result
from .slots import latest_slot, next_slot

if TYPE_CHECKING:
    from .client import Scheduler
    from .keys import Keys

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
# register_cron refuses when another process changed the schedule between our read
# and our write; that is rare, and each retry reads afresh.
_REGISTER_TRIES = 10


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

    def next_after(self, ms: int) -> int:
        """The first slot strictly after ``ms`` (epoch ms), in the schedule's time zone."""
        return next_slot(self.cron, self.timezone, ms)

    def latest_at_or_before(self, ms: int) -> int:
        """The last slot at or before ``ms``."""
        return latest_slot(self.cron, self.timezone, ms)

    def task_id(self, slot_ms: int) -> str:
        return f"cron:{self.name}:{slot_ms}"

    def record(self, slot_ms: int) -> str:
        """The encoded task record of the firing of ``slot_ms``."""
        return Record(
            Status.SCHEDULED, 0, self.max_attempts, slot_ms, self.task_type, self.payload
        ).encode()

    def newest_missed(self, now: int) -> int | None:
        """The misfire policy, for slots missed by more than the grace: the slot to fire late.

        ``run_once``: the newest slot at or before ``now``. ``skip``: that slot only if it
        is within the grace (not itself a miss), else None.
        """
        latest = self.latest_at_or_before(now)
        on_time = now - latest <= MISFIRE_GRACE_MS
        return latest if self.misfire == "run_once" or on_time else None

    def due_slots(self, next_ms: int, now: int) -> list[int]:
        """The slots a ticker at ``now`` would fire, the next unfired slot being ``next_ms``.

        Within the grace every due slot fires (catch-up); past it, :meth:`newest_missed`.
        """
        if next_ms > now:
            return []
        if now - next_ms <= MISFIRE_GRACE_MS:
            slots = []
            while next_ms <= now:
                slots.append(next_ms)
                next_ms = self.next_after(next_ms)
            return slots
        newest = self.newest_missed(now)
        return [] if newest is None else [newest]


class CronTicker:
    """Registers schedules and fires their due slots, on behalf of a Scheduler."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._s = scheduler
        # Slots this process fired, for the heartbeat line.
        self.fired = 0

    def register(self, spec: RecurringSchedule) -> None:
        """Create or change ``spec``; the same spec again changes nothing.

        On a change, the old spec's slots that were due and not fired are fired as a
        ticker would now (:meth:`RecurringSchedule.due_slots`: under its own misfire
        policy), then the new spec starts from its first slot after now.
        """
        text = spec.to_json()
        with redis_errors("schedule_recurring"):
            keys = self._s.schedule_keys(spec.name)
        for _ in range(_REGISTER_TRIES):
            with redis_errors("schedule_recurring"):
                pipe = self._s.redis.pipeline(transaction=False)  # see _read_versioned
                pipe.hget(keys.cron_version, spec.name)
                pipe.hget(keys.cron, spec.name)
                pipe.zscore(keys.cron_next, spec.name)
                version, old_text, old_next = pipe.execute()
            if old_text is not None and old_text.decode() == text:
                return
            now = self._s.now_ms(keys)
            args: list[Any] = [
                spec.name,
                text,
                spec.next_after(now),
                (version or b"0").decode(),
                "" if old_next is None else int(old_next),
                keys.wake,
            ]
            if old_text is not None and old_next is not None:
                old = RecurringSchedule.from_json(spec.name, old_text)
                fire = old.due_slots(int(old_next), now)
                if fire:
                    log.warning(
                        "schedule %r changed with slots due and not fired; policy %s: firing %s",
                        spec.name,
                        old.misfire,
                        fire,
                    )
            else:
                old, fire = spec, []
            args.append(len(fire))
            for slot in fire:
                args += [old.task_id(slot), slot, old.record(slot)]
            with redis_errors("schedule_recurring"):
                code = self._s.scripts.run(
                    "register_cron",
                    [
                        keys.cron,
                        keys.cron_next,
                        keys.cron_version,
                        keys.tasks,
                        keys.due,
                        keys.cron_unreadable,
                    ],
                    args,
                )
            if code == Result.OK:
                return
        raise SchedulerError(
            f"schedule {spec.name!r} kept changing under schedule_recurring; nothing written"
        )

    def unregister(self, name: str) -> bool:
        with redis_errors("unschedule_recurring"):
            keys = self._s.schedule_keys(name)
            pipe = self._s.redis.pipeline(transaction=True)
            pipe.hdel(keys.cron, name)
            pipe.zrem(keys.cron_next, name)
            pipe.hdel(keys.cron_unreadable, name)
            removed, _, set_aside = pipe.execute()
        return bool(removed or set_aside)

    def all(self) -> dict[str, tuple[RecurringSchedule, float | None]]:
        specs: dict[bytes, bytes] = {}
        slots: dict[bytes, float] = {}
        with redis_errors("recurring"):
            for keys in self._s.shard_keys():
                pipe = self._s.redis.pipeline(transaction=True)
                pipe.hgetall(keys.cron)
                pipe.zrange(keys.cron_next, 0, -1, withscores=True)
                shard_specs, nexts = pipe.execute()
                specs.update(shard_specs)
                slots.update((name, score / 1000) for name, score in nexts)
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
        specs: dict[bytes, bytes] = {}
        set_aside: dict[bytes, bytes] = {}
        with redis_errors("unreadable_recurring"):
            for keys in self._s.shard_keys():
                pipe = self._s.redis.pipeline(transaction=True)
                pipe.hgetall(keys.cron)
                pipe.hgetall(keys.cron_unreadable)
                shard_specs, shard_aside = pipe.execute()
                specs.update(shard_specs)
                set_aside.update(shard_aside)
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
        """Fire what is due on every shard; return seconds until the next slot (capped at
        an hour)."""
        with redis_errors("tick_cron"):
            shards = self._s.shard_keys()
        return min(self._tick(keys) for keys in shards)

    def _tick(self, keys: Keys) -> float:
        """:meth:`tick` for the schedules of one shard, by that shard's clock."""
        with redis_errors("tick_cron"):
            while True:
                now = self._s.now_ms(keys)
                due: list[tuple[bytes, float]] = self._s.redis.zrangebyscore(  # type: ignore[assignment]
                    keys.cron_next, "-inf", now, start=0, num=_TICK_BATCH, withscores=True
                )
                if not due:
                    break
                names = [n for n, _ in due]  # bytes: a name that is not UTF-8 is set aside
                versions, specs = self._read_versioned(keys, names)
                for name, (_, slot), text, version in zip(
                    names, due, specs, versions, strict=False
                ):
                    if text is None:
                        self._s.redis.zrem(keys.cron_next, name)
                        continue
                    try:
                        spec = RecurringSchedule.from_json(name.decode(), text)
                        spec.next_after(int(slot))
                    except (CorruptRecord, UnicodeDecodeError, ValueError, KeyError) as exc:
                        self._set_aside(keys, name, text, str(exc))
                        continue
                    self._fire(keys, spec, (version or b"0").decode(), int(slot), now)
            head: list[tuple[bytes, float]] = self._s.redis.zrange(  # type: ignore[assignment]
                keys.cron_next, 0, 0, withscores=True
            )
        if not head:
            return 3600.0
        return max(0.0, min(3600.0, (head[0][1] - self._s.now_ms(keys)) / 1000))

    def _set_aside(self, keys: Keys, name: bytes, text: bytes, reason: str) -> None:
        """Move an unreadable spec out of the way of the others, logging it once."""
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

    def _read_versioned(
        self, keys: Keys, names: Sequence[str | bytes]
    ) -> tuple[list[bytes | None], list[bytes | None]]:
        """The versions, then the specs, of ``names``.

        In that order, without MULTI (a ticker's ACL need not allow it): a spec is then
        at least as new as the version read, and a firing is accepted only while that
        version is current, i.e. only while the spec read is the current one.
        """
        pipe = self._s.redis.pipeline(transaction=False)
        pipe.hmget(keys.cron_version, names)
        pipe.hmget(keys.cron, names)
        versions, specs = pipe.execute()
        return versions, specs

    def _fire(
        self, keys: Keys, spec: RecurringSchedule, version: str, slot: int, now: int
    ) -> Result:
        """Fire ``slot`` of ``spec`` as read at ``version``; REFUSED if anything moved since."""
        if now - slot <= MISFIRE_GRACE_MS:
            fire: int | None = slot
            following = spec.next_after(slot)
        else:
            fire = spec.newest_missed(now)
            following = spec.next_after(now)
            log.warning(
                "schedule %r missed slots from %d ms to %d ms; policy %s: %s",
                spec.name,
                slot,
                now,
                spec.misfire,
                "firing once for the newest" if fire is not None else "skipping them",
            )
        code = self._s.scripts.run(
            "fire_cron",
            [keys.cron, keys.cron_next, keys.tasks, keys.due, keys.cron_version],
            [
                spec.name,
                slot,
                following,
                keys.wake,
                "" if fire is None else spec.task_id(fire),
                fire or 0,
                "" if fire is None else spec.record(fire),
                version,
            ],
        )
        if code == Result.OK and fire is not None:
            self.fired += 1
            self._s._tell_scheduled([spec.record(fire)])
        return Result(code)

    def heartbeat(self, period_s: float) -> None:
        """Log one line: the schedules, the slots fired since the last line, the next slot."""
        nexts: list[tuple[bytes, float]] = []
        with redis_errors("cron heartbeat"):
            for keys in self._s.shard_keys():
                found: list[tuple[bytes, float]] = self._s.redis.zrange(  # type: ignore[assignment]
                    keys.cron_next, 0, -1, withscores=True
                )
                nexts += found
        nexts.sort(key=lambda entry: entry[1])
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
