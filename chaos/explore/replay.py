"""The replay file: a shrunk example written as a normal scenario file.

``python -m duetime.chaos run <file> --config ... --seed ...`` reruns it like any file
of ``scenarios/``; the command is in its docstring. Its expectations are the
standard ones plus, under the configuration it was found in, the finding itself
(see :func:`duetime.chaos.explore.judge.replay_expectations`).
"""

from __future__ import annotations

import dataclasses
import shlex
import textwrap
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from duetime.chaos.checker import DEFAULT_CHECKERS
from duetime.chaos.scenario import STANDARD_EXPECTATIONS, Scenario

from .source import LINE_LENGTH, Atom, Group, Imports, Node, Unrenderable, assignment, to_node

STANDARD_NAME = "STANDARD_EXPECTATIONS"


def run_command(path: Path, config: str, seed: int) -> str:
    """The command that reruns a replay file."""
    return shlex.join(
        [
            "python",
            "-m",
            "duetime.chaos",
            "run",
            path.as_posix(),
            "--config",
            config,
            "--seed",
            str(seed),
        ]
    )


def _expectations_node(scenario: Scenario, imports: Imports) -> Node | None:
    table = dict(scenario.expectations)
    if table == dict(STANDARD_EXPECTATIONS):
        return None
    items: list[tuple[str, Node]] = []
    for key, expects in STANDARD_EXPECTATIONS.items():
        if table.get(key) == expects:
            del table[key]
    if len(table) < len(scenario.expectations):
        items.append(("**", Atom(imports.add_name("duetime.chaos.scenario", STANDARD_NAME))))
    items += [(f"{to_node(k, imports).flat()}: ", to_node(v, imports)) for k, v in table.items()]
    return Group("", "{", "}", tuple(items))


def scenario_node(scenario: Scenario, imports: Imports) -> Node:
    """``Scenario(...)`` with the fields that differ from the defaults."""
    if dict(scenario.checkers) != DEFAULT_CHECKERS:
        raise Unrenderable("a replay file keeps the default checkers")
    items: list[tuple[str, Node]] = []
    for f in dataclasses.fields(scenario):
        if f.name == "checkers":
            continue
        if f.name == "expectations":
            node = _expectations_node(scenario, imports)
            if node is not None:
                items.append(("expectations=", node))
            continue
        default = Scenario(name="", description="")
        value = getattr(scenario, f.name)
        if f.name in ("name", "description") or value != getattr(default, f.name):
            items.append((f"{f.name}=", to_node(value, imports)))
    return Group(imports.add(Scenario), "(", ")", tuple(items))


def _printable(text: str) -> str:
    """Control characters other than newlines, escaped (a source file cannot hold some)."""
    return "".join(
        c if c == "\n" or unicodedata.category(c) != "Cc" else repr(c)[1:-1] for c in text
    )


def _shell_lines(command: str, indent: str) -> str:
    """``command`` in lines that fit under ``indent``, continued with backslashes (in the
    docstring's source a backslash takes two characters, a continued line two more)."""
    width = LINE_LENGTH - len(indent) - 2 - 3
    lines: list[str] = []
    for word in map(shlex.quote, shlex.split(command)):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return indent + f" \\\n{indent}  ".join(lines)


def _docstring(paragraphs: Sequence[str], command: str) -> str:
    width = LINE_LENGTH - 4
    body = [textwrap.fill(p, width) for p in paragraphs]
    body += [f"Rerun it:\n\n{_shell_lines(command, '    ')}"]
    text = "\n\n".join(body).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{_printable(text)}\n"""'


def replay_source(scenario: Scenario, paragraphs: Sequence[str], command: str) -> str:
    """The source of a scenario file that defines ``SCENARIO = scenario``."""
    imports = Imports()
    node = scenario_node(scenario, imports)
    return "\n".join(
        [
            _docstring(paragraphs, command),
            "",
            *imports.lines(),
            "",
            assignment("SCENARIO", node),
            "",
        ]
    )


def write_replay(path: Path, scenario: Scenario, paragraphs: Sequence[str], command: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replay_source(scenario, paragraphs, command))
    return path
