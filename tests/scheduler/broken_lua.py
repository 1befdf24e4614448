"""Deliberately broken variants of the Lua scripts, for the model test to catch.

Each is one line of a real script changed, applied at test time so that the
variant follows the real script; if that line changes, ``broken`` says so.
"""

from __future__ import annotations

from duetime import lua

MUTATIONS: dict[str, tuple[str, str, str]] = {
    # A poller that rounds time up: takes tasks up to a second before they are due.
    "claim_early": (
        "claim",
        "redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, room)",
        "redis.call('ZRANGEBYSCORE', due, '-inf', now + 1000, 'LIMIT', 0, room)",
    ),
    # An ack that checks the status but not the token: no fencing of stale holders.
    "ack_unfenced": (
        "ack",
        "if holds(r, tok) then",
        "if r and r.st == 'R' then",
    ),
    # The attempt as the fencing token: retry_dead starts it over, so a token comes back.
    "token_from_attempt": (
        "claim",
        "r.tok = redis.call('INCR', fence)",
        "r.tok = r.att",
    ),
}


def broken(variant: str) -> tuple[str, str]:
    """(script name, broken source) of ``variant``."""
    script, good, bad = MUTATIONS[variant]
    text = lua.source(script)
    if text.count(good) != 1:
        raise AssertionError(f"{script}.lua changed: the line {variant} breaks is gone")
    return script, text.replace(good, bad)
