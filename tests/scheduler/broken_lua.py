"""Deliberately broken variants of the Lua scripts, for the model test to catch.

Each is one line of a real script changed, applied at test time so that the
variant follows the real script; if that line changes, ``broken`` says so. A line of
an include (``includes/*.lua``) is changed in every script that pastes it in.
"""

from __future__ import annotations

from duetime import lua

# variant -> (scripts, good line, broken line)
MUTATIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    # A poller that rounds time up: takes tasks up to a second before they are due.
    "claim_early": (
        ("claim",),
        "redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, room)",
        "redis.call('ZRANGEBYSCORE', due, '-inf', now + 1000, 'LIMIT', 0, room)",
    ),
    # An ack that checks the status but not the token: no fencing of stale holders.
    "ack_unfenced": (
        ("ack",),
        "if holds(r, tok) then",
        "if r and r.st == 'R' then",
    ),
    # The fence itself checks that the task runs, not whose token it is: every lease
    # operation (ack, fail, renew, release) lets a superseded holder through.
    "fence_ignores_token": (
        ("ack", "fail", "renew", "release"),
        "return r.st == 'R' and r.tok > 0 and r.tok == token",
        "return r.st == 'R'",
    ),
    # The attempt as the fencing token: retry_dead starts it over, so a token comes back.
    "token_from_attempt": (
        ("claim",),
        "r.tok = redis.call('INCR', fence)",
        "r.tok = r.att",
    ),
    # A failure is retried whatever the attempt: max_attempts never buries it.
    "fail_ignores_max_attempts": (
        ("fail",),
        "if delay >= 0 and r.att < r.max then",
        "if delay >= 0 then",
    ),
    # An expired lease is taken over once more than max_attempts allows (off by one).
    "claim_ignores_max_attempts": (
        ("claim",),
        "if r.att >= r.max then",
        "if r.att > r.max then",
    ),
}


def broken(variant: str) -> list[tuple[str, str]]:
    """(script name, broken source) of each script ``variant`` changes."""
    scripts, good, bad = MUTATIONS[variant]
    changed = []
    for script in scripts:
        text = lua.source(script)
        if text.count(good) != 1:
            raise AssertionError(f"{script}.lua changed: the line {variant} breaks is gone")
        changed.append((script, text.replace(good, bad)))
    return changed
