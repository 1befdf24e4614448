"""The result codes the Lua scripts return: one table, for Lua and Python alike.

The loader pastes this table into every script that says ``-- @include "results"``,
as ``RESULT.OK`` and so on, so a script and the code that reads its reply cannot
disagree about what a number means.
"""

from __future__ import annotations

import enum


class Result(enum.IntEnum):
    UNREADABLE = -2
    """The task's record exists but does not parse (see ``record.lua``)."""
    NOT_FOUND = -1
    """No such task (or its record expired)."""
    REFUSED = 0
    """The task is not in a state that allows it, or the caller's lease was taken over."""
    OK = 1
    """Done as asked (for ``fail``: the task will be retried)."""
    BURIED = 2
    """``fail`` only: the task was out of attempts and went to the dead letters."""


def lua_table() -> str:
    """``Result`` as a Lua table, for scripts to include."""
    fields = ", ".join(f"{r.name} = {r.value}" for r in Result)
    return f"-- Result codes, from duetime/results.py.\nlocal RESULT = {{{fields}}}"
