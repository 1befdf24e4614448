"""Run configurations: ``aof=everysec`` on the command line, a :class:`Persistence` inside."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from duetime.chaos.system.redis_server import AOF_MODES, Persistence

CONFIG_KEYS = {"aof": AOF_MODES}
DEFAULT_CONFIG = "aof=everysec"


class ConfigError(ValueError):
    """A --config value that does not parse."""


def parse_config(text: str) -> Persistence:
    """One configuration: ``aof=MODE`` (``aof=off|no|everysec|always``)."""
    configs = expand_configs([text])
    if len(configs) != 1:
        raise ConfigError(f"expected one configuration, got {len(configs)} from {text!r}")
    return configs[0]


def expand_configs(texts: Sequence[str]) -> list[Persistence]:
    """Every combination of ``key=v1,v2`` options (``aof=off,no`` gives two configs)."""
    choices: dict[str, list[str]] = {}
    for text in texts:
        key, sep, values = text.partition("=")
        key = key.strip()
        if not sep or key not in CONFIG_KEYS:
            raise ConfigError(f"--config must look like aof=everysec, not {text!r}")
        wanted = [v.strip() for v in values.split(",") if v.strip()]
        bad = [v for v in wanted if v not in CONFIG_KEYS[key]]
        if bad or not wanted:
            raise ConfigError(f"{key} takes {', '.join(CONFIG_KEYS[key])}; got {values!r}")
        choices[key] = wanted
    if not choices:
        return [parse_config(DEFAULT_CONFIG)]
    return [
        Persistence(**dict(zip(choices, combo, strict=True)))
        for combo in itertools.product(*choices.values())
    ]
