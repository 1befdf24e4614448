"""Input checks. Each raises :class:`InvalidInput` before anything is written."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from .errors import InvalidInput

# Year 9999: far enough for any schedule, and well inside a double's exact integers.
MAX_TIMESTAMP = 253_402_300_799.0
MAX_TASK_ID_BYTES = 256
_TASK_TYPE = re.compile(r"[A-Za-z0-9_.:/\-]{1,128}")
_SCHEDULE_NAME = re.compile(r"[A-Za-z0-9_.:/\-]{1,128}")
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
    """Serialise ``data`` as compact JSON, or raise if it is not JSON or too large."""
    try:
        text = _JSON.encode(data)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"task_data must be JSON-serialisable: {exc}") from None
    # A UTF-8 byte count only when the text could be over the limit (4 bytes a char at most).
    size = len(text) if 4 * len(text) <= limit else len(text.encode())
    if size > limit:
        raise InvalidInput(f"task_data is {size} bytes as JSON; the limit is {limit}")
    return text


def task_id(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"task_id must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidInput("task_id must not be empty")
    if len(value.encode()) > MAX_TASK_ID_BYTES:
        raise InvalidInput(f"task_id is longer than {MAX_TASK_ID_BYTES} bytes")
    return value


def task_type(value: object) -> str:
    if not isinstance(value, str) or not _TASK_TYPE.fullmatch(value):
        raise InvalidInput(
            f"task_type must be 1-128 characters of letters, digits and _ . : / -, not {value!r}"
        )
    return value


def max_attempts(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise InvalidInput(f"max_attempts must be an int from 1 to 1000, not {value!r}")
    return value


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
    return expr


def timezone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"timezone must be an IANA name such as 'Europe/Madrid', not {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {name!r}") from None
