"""Python source for frozen dataclass values, as a formatter would lay it out.

Used to write a shrunk example as a normal scenario file. A value is rendered
as the constructor call that rebuilds it, with only the fields that differ from
their defaults; classes are imported from the shortest package that exports
them (``duetime.chaos.nemesis``, not ``duetime.chaos.nemesis.redis_process``). Lines stay within
:data:`LINE_LENGTH`: calls, tuples and dicts that do not fit are split one item
per line with a trailing comma, and long strings into implicitly joined parts.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LINE_LENGTH = 100
INDENT = 4


class Unrenderable(TypeError):
    """A value that has no source form here (a function, an arbitrary object)."""


@dataclass
class Imports:
    """The ``from module import name`` lines a rendered value needs."""

    names: dict[str, set[str]] = field(default_factory=dict)

    def add(self, cls: type) -> str:
        module = public_module(cls)
        self.names.setdefault(module, set()).add(cls.__name__)
        return cls.__name__

    def add_name(self, module: str, name: str) -> str:
        self.names.setdefault(module, set()).add(name)
        return name

    def lines(self) -> list[str]:
        return [
            f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(self.names.items())
        ]


def public_module(cls: type) -> str:
    """The shortest enclosing package of ``cls``'s module that exports it under its name."""
    parts = cls.__module__.split(".")
    for n in range(1, len(parts) + 1):
        module = ".".join(parts[:n])
        if getattr(importlib.import_module(module), cls.__name__, None) is cls:
            return module
    return cls.__module__


# -- a tiny layout tree --------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    text: str

    def flat(self) -> str:
        return self.text


@dataclass(frozen=True)
class Str:
    value: str

    def flat(self) -> str:
        return quote(self.value)


@dataclass(frozen=True)
class Group:
    """``head`` + ``open`` + items + ``close``: a call, a tuple, a list or a dict."""

    head: str
    open: str
    close: str
    items: tuple[tuple[str, Node], ...]
    one_tuple: bool = False

    def flat(self) -> str:
        inner = ", ".join(prefix + node.flat() for prefix, node in self.items)
        comma = "," if self.one_tuple else ""
        return f"{self.head}{self.open}{inner}{comma}{self.close}"


Node = Atom | Str | Group


def quote(text: str) -> str:
    """A double-quoted literal, as the formatter prefers."""
    if '"' in text and "'" not in text:
        return repr(text)
    # JSON's escapes are all valid Python escapes.
    return json.dumps(text, ensure_ascii=False)


def split_words(text: str, width: int) -> list[str]:
    """``text`` in parts of at most ``width`` characters where words allow; joined, the
    parts are ``text`` again (each keeps the spaces after its last word)."""
    parts: list[str] = []
    current = ""
    for token in re.findall(r"\S+\s*|\s+", text):
        if current and len(current + token.rstrip()) > width:
            parts.append(current)
            current = ""
        current += token
    return [*parts, current] if current or not parts else parts


def layout(node: Node, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines for ``prefix + node + suffix`` at ``indent``: flat if it fits, else split."""
    pad = " " * indent
    flat = f"{pad}{prefix}{node.flat()}{suffix}"
    if len(flat) <= LINE_LENGTH or isinstance(node, Atom):
        return [flat]
    if isinstance(node, Str):
        width = LINE_LENGTH - indent - len(prefix) - len(suffix) - 4
        parts = split_words(node.value, max(20, width))
        if len(parts) < 2:
            return [flat]
        lines = [f"{pad}{prefix}("]
        lines += [f"{pad}{' ' * INDENT}{quote(p)}" for p in parts]
        return [*lines, f"{pad}){suffix}"]
    lines = [f"{pad}{prefix}{node.head}{node.open}"]
    for item_prefix, item in node.items:
        lines += layout(item, indent + INDENT, item_prefix, ",")
    return [*lines, f"{pad}{node.close}{suffix}"]


# -- values to nodes -----------------------------------------------------------


def _is_default(f: dataclasses.Field[Any], value: Any) -> bool:
    if f.default is not dataclasses.MISSING:
        return bool(value == f.default)
    if f.default_factory is not dataclasses.MISSING:
        return bool(value == f.default_factory())
    return False


def to_node(value: Any, imports: Imports) -> Node:
    """The layout node of ``value``; raise :class:`Unrenderable` if it has no source form."""
    if value is None or isinstance(value, bool | int | float):
        return Atom(repr(value))
    if isinstance(value, str):
        return Str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = imports.add(type(value))
        items = tuple(
            (f"{f.name}=", to_node(getattr(value, f.name), imports))
            for f in dataclasses.fields(value)
            if f.init and not _is_default(f, getattr(value, f.name))
        )
        return Group(name, "(", ")", items)
    if isinstance(value, tuple):
        items = tuple(("", to_node(v, imports)) for v in value)
        return Group("", "(", ")", items, one_tuple=len(items) == 1)
    if isinstance(value, list):
        return Group("", "[", "]", tuple(("", to_node(v, imports)) for v in value))
    if isinstance(value, Mapping):
        items = tuple(
            (f"{to_node(k, imports).flat()}: ", to_node(v, imports)) for k, v in value.items()
        )
        return Group("", "{", "}", items)
    raise Unrenderable(f"no source form for {type(value).__name__}: {value!r}")


def assignment(name: str, node: Node) -> str:
    """``name = <node>`` laid out within the line length."""
    return "\n".join(layout(node, 0, f"{name} = "))
