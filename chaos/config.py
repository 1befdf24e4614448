"""Run configurations: ``aof=everysec`` (and optionally ``maxmemory=noeviction``) on the
command line, a :class:`Persistence` inside."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from duetime.chaos.system.redis_server import AOF_MODES, MAXMEMORY_POLICIES, Persistence

CONFIG_KEYS = {"aof": AOF_MODES, "maxmemory": MAXMEMORY_POLICIES}
DEFAULT_CONFIG = "aof=everysec"


class ConfigError(ValueError):
    """A --config value that does not parse."""


def parse_config(text: str) -> Persistence:
    """One configuration: ``aof=MODE`` (``aof=off|no|everysec|always``), optionally with
    ``maxmemory=POLICY`` (``noeviction|allkeys-lru``), e.g. ``aof=everysec maxmemory=noeviction``
    given as two ``--config`` values."""
    configs = expand_configs([text])
    if len(configs) != 1:
        raise ConfigError(f"expected one configuration, got {len(configs)} from {text!r}")
    return configs[0]


def expand_configs(texts: Sequence[str]) -> list[Persistence]:
    """Every combination of ``key=v1,v2`` options (``aof=off,no`` gives two configs;
    ``aof=off,no,maxmemory=noeviction,allkeys-lru`` gives four). A value without ``=``
    adds to the key before it, so a run's label (``aof=no,maxmemory=noeviction``) parses
    back to its config."""
    choices: dict[str, list[str]] = {}
    for text in texts:
        key = ""
        for token in (t for t in re.split(r"[,\s]+", text) if t):
            name, sep, value = token.partition("=")
            if sep:
                key = name
                if key not in CONFIG_KEYS:
                    raise ConfigError(
                        f"--config keys are {', '.join(CONFIG_KEYS)} "
                        f"(e.g. aof=everysec), not {name!r} in {text!r}"
                    )
                choices[key] = []
                token = value
            elif not key:
                raise ConfigError(
                    f"--config must look like aof=everysec or maxmemory=noeviction, not {text!r}"
                )
            if token:
                choices[key].append(token)
        if not key:
            raise ConfigError(
                f"--config must look like aof=everysec or maxmemory=noeviction, not {text!r}"
            )
    for key, wanted in choices.items():
        bad = [v for v in wanted if v not in CONFIG_KEYS[key]]
        if bad or not wanted:
            raise ConfigError(
                f"{key} takes {', '.join(CONFIG_KEYS[key])}; got {','.join(wanted)!r}"
            )
    if not choices:
        return [parse_config(DEFAULT_CONFIG)]
    return [
        Persistence(**dict(zip(choices, combo, strict=True)))
        for combo in itertools.product(*choices.values())
    ]
