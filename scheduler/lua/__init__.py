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

from ..results import lua_table

_INCLUDE = re.compile(r'^-- @include "([a-z_]+)"$', re.MULTILINE)


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
        """Run script ``name``; ``client`` may be a pipeline."""
        return self._scripts[name](keys=keys, args=args, client=client)
