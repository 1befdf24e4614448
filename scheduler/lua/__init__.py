"""Loads the ``.lua`` files beside this module and registers them on a Redis client.

A script may say ``-- @include "name"`` on a line of its own to paste in
``includes/name.lua``; ``-- @include "results"`` pastes the result codes of
:mod:`duetime.results`. Scripts run by SHA (redis-py's ``Script`` loads them again
after a ``NOSCRIPT``, e.g. when Redis restarted empty).
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import redis
from redis.commands.core import Script

from ..errors import is_refusal
from ..results import lua_table

_INCLUDE = re.compile(r'^-- @include "([a-z_]+)"$', re.MULTILINE)
_CALL = re.compile(r"redis\.p?call\('([A-Za-z]+)'")
_FUNCTION = re.compile(r"^local function ([a-z_]+)\(", re.MULTILINE)


def _read(node: Traversable) -> str:
    return node.read_text(encoding="utf-8")


def expand_includes(text: str) -> str:
    """Paste ``includes/<name>.lua`` where ``text`` says ``-- @include "<name>"``."""
    root = resources.files(__package__)

    def include(name: str) -> str:
        return lua_table() if name == "results" else _read(root / "includes" / f"{name}.lua")

    return _INCLUDE.sub(lambda m: include(m.group(1)), text)


def source(name: str) -> str:
    """The text of script ``name`` with its includes pasted in."""
    return expand_includes(_read(resources.files(__package__) / f"{name}.lua"))


def _calls(text: str, functions: dict[str, set[str]]) -> set[str]:
    found = {c.lower() for c in _CALL.findall(text)}
    for fn, cmds in functions.items():
        if re.search(rf"\b{fn}\(", text):
            found |= cmds
    return found


def _include_functions() -> dict[str, set[str]]:
    """Each function of the includes -> the commands it calls, through other functions too."""
    bodies: dict[str, str] = {}
    for node in (resources.files(__package__) / "includes").iterdir():
        if node.name.endswith(".lua"):
            parts = _FUNCTION.split(_read(node))
            bodies.update(zip(parts[1::2], parts[2::2], strict=True))
    functions: dict[str, set[str]] = {fn: set() for fn in bodies}
    while True:
        grown = {fn: _calls(body, functions) for fn, body in bodies.items()}
        if grown == functions:
            return functions
        functions = grown


def commands(name: str) -> list[str]:
    """The Redis commands script ``name`` calls, lower case: what a user's ACL must allow."""
    text = _read(resources.files(__package__) / f"{name}.lua")
    return sorted(_calls(text, _include_functions()))


def names() -> list[str]:
    root = resources.files(__package__)
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".lua"))


class Scripts:
    """Every script of this package, registered on one client."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._scripts: dict[str, Script] = {
            name: client.register_script(source(name)) for name in names()
        }

    def replace(self, name: str, text: str) -> None:
        """Run ``text`` in place of script ``name``: for tests that show a broken
        script is caught. Never needed in production."""
        if name not in self._scripts:
            raise KeyError(f"no script named {name!r}")
        self._scripts[name] = self._client.register_script(expand_includes(text))

    def run(self, name: str, keys: list[str], args: list[Any], client: Any = None) -> Any:
        """Run script ``name``; ``client`` may be a pipeline.

        A command the script calls that the user may not run comes back as a plain
        error naming no command: it is raised as ``NoPermissionError`` naming them all.
        """
        try:
            return self._scripts[name](keys=keys, args=args, client=client)
        except redis.ResponseError as exc:
            if not is_refusal(exc):
                raise
            if isinstance(exc, redis.exceptions.NoPermissionError):
                if "keys" not in str(exc):
                    raise
                text = f"{exc} (script {name!r} uses {' '.join(keys)})"
            else:
                text = (
                    f"script {name!r} ran a command this user may not run: it runs "
                    f"{' '.join(commands(name))} on {' '.join(keys)}; Redis said: {exc}"
                )
            raise redis.exceptions.NoPermissionError(text) from exc
