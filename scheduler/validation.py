"""Input checks. Each raises :class:`InvalidInput` before anything is written."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from .errors import InvalidInput

# Year 9999: far enough for any schedule, and well inside a double's exact integers.
MAX_TIMESTAMP = 253_402_300_799.0
MAX_TASK_ID_BYTES = 256
# Ids of recurring slots are cron:<name>:<slot ms>; a producer's id there would take a slot's place.
RESERVED_TASK_ID_PREFIX = "cron:"
MAX_ATTEMPTS = 1000
# Deeper JSON than any real payload needs, and far below what json.loads can recurse into
# in a worker thread: data accepted here is data every reader can decode.
MAX_NESTING = 100
# Redis refuses a bulk string over 512 MiB (proto-max-bulk-len).
MAX_PAYLOAD_LIMIT = 512 << 20
# A lease below 0.1 s expires before a claim's round trip; over a day, a dead worker's
# tasks wait that long for another worker.
MIN_LEASE_S = 0.1
MAX_LEASE_S = 24 * 3600.0
# A handler timeout runs from 10 ms to a day, like a lease; a run longer than that
# needs none.
MIN_HANDLER_TIMEOUT_S = 0.01
# Retention, backoff and grace periods: any finite number of seconds up to ten years.
MAX_DURATION_S = 10 * 365 * 24 * 3600.0
# Each slot is a thread; past this, a process should be split, not widened.
MAX_CONCURRENCY = 1024
MAX_PAGE = 10_000
# ZRANGE indexes are signed 64-bit in Redis.
MAX_OFFSET = 2**62
_NAMESPACE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_TASK_TYPE = re.compile(r"[A-Za-z0-9_.:/\-]{1,128}")
_SCHEDULE_NAME = re.compile(r"[A-Za-z0-9_.:/\-]{1,128}")
# C0 and C1 controls, line and paragraph separators (log forging) and lone surrogates
# (not encodable as UTF-8, so Redis could never hold them).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# One encoder, configured once: json.dumps with options builds a new one per call.
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def due_ms(timestamp: object) -> int:
    """Epoch seconds (int, float or aware datetime) -> epoch milliseconds, rounded up.

    Rounding up keeps "never early": a task due at 1.0005 s is not claimable
    before 1.001 s.
    """
    if isinstance(timestamp, dt.datetime):
        if timestamp.tzinfo is None or timestamp.utcoffset() is None:
            raise InvalidInput(
                "naive datetime: give a timezone-aware datetime (e.g. tzinfo=timezone.utc) "
                "or epoch seconds"
            )
        seconds = timestamp.timestamp()
    elif isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        raise InvalidInput(
            f"timestamp must be epoch seconds (int or float) or an aware datetime, "
            f"not {type(timestamp).__name__}"
        )
    elif isinstance(timestamp, int) and not 0 <= timestamp <= MAX_TIMESTAMP:
        # Compared as an int: float() of 10**400 would raise OverflowError.
        what = "must not be negative" if timestamp < 0 else "is after the year 9999"
        raise InvalidInput(f"timestamp {what}: {_short(timestamp)}")
    else:
        seconds = float(timestamp)
    if not math.isfinite(seconds):
        raise InvalidInput(f"timestamp must be finite, not {seconds!r}")
    if seconds < 0:
        raise InvalidInput(f"timestamp must not be negative: {seconds!r}")
    if seconds > MAX_TIMESTAMP:
        raise InvalidInput(f"timestamp {seconds!r} is after the year 9999")
    return math.ceil(round(seconds * 1000, 3))


def payload(data: Any, limit: int) -> str:
    """Serialise ``data`` as compact JSON, or raise if it is not JSON, too deep or too large."""
    try:
        text = _JSON.encode(data)
    except RecursionError:
        raise InvalidInput(
            f"task_data is nested more than {MAX_NESTING} levels deep: flatten it"
        ) from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"task_data must be JSON-serialisable: {exc}") from None
    # Each level opens a bracket, so few brackets (counted in C) prove the depth is fine.
    if text.count("[") + text.count("{") > MAX_NESTING and _depth(data) > MAX_NESTING:
        raise InvalidInput(f"task_data is nested more than {MAX_NESTING} levels deep: flatten it")
    if text.isascii():  # O(1) in CPython: the string knows its widest character
        size = len(text)
    else:
        try:
            size = len(text.encode())
        except UnicodeEncodeError:
            raise InvalidInput(
                "task_data contains a lone surrogate (e.g. '\\ud800'), which is not valid "
                "Unicode text: decode bytes with errors='replace' or send them as base64"
            ) from None
    if size > limit:
        raise InvalidInput(f"task_data is {size} bytes as JSON; the limit is {limit}")
    return text


def _depth(data: Any) -> int:
    """How deeply lists and dicts nest in ``data``; stops counting past MAX_NESTING."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack and deepest <= MAX_NESTING:
        item, level = stack.pop()
        if isinstance(item, (list, tuple)):
            children: Any = item
        elif isinstance(item, dict):
            children = item.values()
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "a huge int"
    return text if len(text) <= 80 else text[:77] + "..."


def task_id(value: object) -> str:
    """Any id a task may have: 1-256 UTF-8 bytes of printable text."""
    if not isinstance(value, str):
        raise InvalidInput(f"task_id must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidInput("task_id must not be empty")
    if bad := _UNPRINTABLE.search(value):
        raise InvalidInput(
            f"task_id must be printable text: it contains {bad.group()!r} at index "
            f"{bad.start()}; control characters and lone surrogates are not allowed"
        )
    if len(value.encode()) > MAX_TASK_ID_BYTES:
        raise InvalidInput(f"task_id is longer than {MAX_TASK_ID_BYTES} bytes")
    return value


def producer_task_id(value: object) -> str:
    """An id a producer chooses: a :func:`task_id` outside the reserved ``cron:`` prefix."""
    task_id(value)
    assert isinstance(value, str)
    if value.startswith(RESERVED_TASK_ID_PREFIX):
        raise InvalidInput(
            f"task_id must not start with {RESERVED_TASK_ID_PREFIX!r}: that prefix is reserved "
            f"for the slots of recurring schedules; pick another id"
        )
    return value


def task_type(value: object) -> str:
    if not isinstance(value, str) or not _TASK_TYPE.fullmatch(value):
        raise InvalidInput(
            f"task_type must be 1-128 characters of letters, digits and _ . : / -, not {value!r}"
        )
    return value


def max_attempts(value: object) -> int:
    return count("max_attempts", value, 1, MAX_ATTEMPTS)


def count(name: str, value: object, low: int, high: int) -> int:
    """An int (not a bool) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be an int from {low} to {high}, not {_short(value)}")
    return value


def seconds(name: str, value: object, low: float, high: float) -> float:
    """A finite int or float (not a bool) of seconds from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(
            f"{name} must be a number of seconds, not {type(value).__name__} {_short(value)}"
        )
    if not low <= value <= high:  # also refuses NaN, whose comparisons are all false
        raise InvalidInput(
            f"{name} must be from {low:.10g} to {high:.10g} seconds, not {_short(value)}"
        )
    return float(value)


def lease_s(value: object) -> float:
    return seconds("lease_s", value, MIN_LEASE_S, MAX_LEASE_S)


def shutdown_grace_s(value: object) -> float:
    return seconds("shutdown_grace_s", value, 0.0, MAX_LEASE_S)


def handler_timeout_s(name: str, value: object) -> float:
    return seconds(name, value, MIN_HANDLER_TIMEOUT_S, MAX_LEASE_S)


def handler_timeouts(value: object) -> dict[str, float]:
    """A mapping of task type -> handler timeout in seconds."""
    if not isinstance(value, Mapping):
        raise InvalidInput(
            f"handler_timeouts must be a dict of task type -> seconds, not {type(value).__name__}"
        )
    return {
        task_type(key): handler_timeout_s(f"handler_timeouts[{key!r}]", s)
        for key, s in value.items()
    }


def duration_s(name: str, value: object) -> float:
    return seconds(name, value, 0.0, MAX_DURATION_S)


def concurrency(value: object) -> int:
    return count("concurrency", value, 1, MAX_CONCURRENCY)


def page(limit: object, offset: object) -> tuple[int, int]:
    """``limit`` and ``offset`` of a listing."""
    return count("limit", limit, 0, MAX_PAGE), count("offset", offset, 0, MAX_OFFSET)


def namespace(value: object) -> str:
    if not isinstance(value, str) or not _NAMESPACE.fullmatch(value):
        raise InvalidInput(
            f"namespace must be 1-64 characters of letters, digits and _ . : -, not {value!r}"
        )
    return value


def label(name: str, value: object) -> str:
    """A name shown in logs: printable text, so it cannot forge a log line."""
    if not isinstance(value, str) or not value or _UNPRINTABLE.search(value) or len(value) > 256:
        raise InvalidInput(f"{name} must be 1-256 characters of printable text, not {value!r}")
    return value


def handlers(value: object) -> dict[str, Callable[..., Any]]:
    """A mapping of task type -> callable."""
    if not isinstance(value, Mapping):
        raise InvalidInput(
            f"handlers must be a dict of task type -> callable, not {type(value).__name__}"
        )
    for key, fn in value.items():
        task_type(key)
        if not callable(fn):
            raise InvalidInput(f"handler for {key!r} is not callable: {fn!r}")
    return dict(value)


def schedule_name(value: object) -> str:
    if not isinstance(value, str) or not _SCHEDULE_NAME.fullmatch(value):
        raise InvalidInput(
            f"schedule name must be 1-128 characters of letters, digits and _ . : / -, "
            f"not {value!r}"
        )
    return value


def cron_expression(expr: object) -> str:
    """A 5-field cron expression, or 6 fields with seconds first (``*/10 * * * * *``)."""
    if not isinstance(expr, str) or len(expr.split()) not in (5, 6):
        raise InvalidInput(f"cron expression must have 5 or 6 fields, not {expr!r}")
    if not croniter.is_valid(expr, second_at_beginning=True):
        raise InvalidInput(f"invalid cron expression {expr!r}")
    try:
        croniter(expr, dt.datetime.now(dt.timezone.utc), second_at_beginning=True).get_next(float)
    except CroniterError:
        raise InvalidInput(
            f"cron expression {expr!r} never fires (e.g. February 30th): check its day and month"
        ) from None
    return expr


def timezone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"timezone must be an IANA name such as 'Europe/Madrid', not {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r}") from None
