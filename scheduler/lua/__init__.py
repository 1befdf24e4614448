"""Loads the ``.lua`` files beside this module and registers them on a Redis client.

A script may say ``-- @include "name"`` on a line of its own to paste in
``includes/name.lua``; ``-- @include "results"`` pastes the result codes of
:mod:`duetime.results`. Scripts run by SHA (redis-py's ``Script`` loads them again
after a ``NOSCRIPT``, e.g. when Redis restarted empty).

A script that says ``-- @flags <flags>`` is registered with the first line
``#!lua flags=<flags>`` on Redis 7 and later; Redis 6.2 knows no such line, and gets the
script without it. The server is asked its version on the first call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script

from ..errors import is_refusal
from ..results import lua_table
from ..server import ServerInfo, probe

_INCLUDE = re.compile(r'^-- @include "([a-z_]+)"$', re.MULTILINE)
_CALL = re.compile(r"redis\.p?call\('([A-Za-z]+)'")
_FLAGS = re.compile(r"^-- @flags ([a-z-]+(?:,[a-z-]+)*)$", re.MULTILINE)
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


def flags(text: str) -> str | None:
    """The script flags ``text`` asks for with ``-- @flags``, or None."""
    m = _FLAGS.search(text)
    return m.group(1) if m else None


def with_flags(text: str, server: ServerInfo) -> str:
    """``text`` as ``server`` must get it: with its ``#!lua`` line where it may have one."""
    wanted = flags(text)
    if wanted is None or not server.script_flags:
        return text
    return f"#!lua flags={wanted}\n{text}"


def names() -> list[str]:
    root = resources.files(__package__)
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".lua"))


class Scripts:
    """Every script of this package, registered on one client.

    ``check``, if given, is called with what the server said on the first call, and may
    raise to refuse every call (it is asked again on the next one).
    """

    def __init__(
        self,
        client: redis.Redis | RedisCluster,
        check: Callable[[ServerInfo], None] | None = None,
        key: str = "",
        on_readonly: Callable[[redis.RedisError], None] | None = None,
    ) -> None:
        self._client = client
        self._check = check
        # Told when a script meets a read-only replica (a demoted primary); may raise.
        self._on_readonly = on_readonly
        # On a Cluster, the server asked is the master of this key.
        self._key = key
        self._texts: dict[str, str] = {name: source(name) for name in names()}
        self._server: ServerInfo | None = None
        self._scripts: dict[str, Script] = {}

    def server(self) -> ServerInfo:
        """What the server said (asked now if no call has asked yet)."""
        if self._server is None:
            server = probe(self._client, self._key)
            if self._check is not None:
                self._check(server)
            self._scripts = {
                name: self._client.register_script(with_flags(text, server))
                for name, text in self._texts.items()
            }
            self._server = server
        return self._server

    def replace(self, name: str, text: str) -> None:
        """Run ``text`` in place of script ``name``: for tests that show a broken
        script is caught. Never needed in production."""
        if name not in self._texts:
            raise KeyError(f"no script named {name!r}")
        self._texts[name] = expand_includes(text)
        if self._server is not None:
            self._scripts[name] = self._client.register_script(
                with_flags(self._texts[name], self._server)
            )

    def run(self, name: str, keys: list[str], args: list[Any], client: Any = None) -> Any:
        """Run script ``name``; ``client`` may be a pipeline.

        A command the script calls that the user may not run comes back as a plain
        error naming no command: it is raised as ``NoPermissionError`` naming them all.
        """
        self.server()
        try:
            return self._scripts[name](keys=keys, args=args, client=client)
        except redis.ResponseError as exc:
            if "READONLY" in str(exc) and self._on_readonly is not None:
                self._on_readonly(exc)
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
