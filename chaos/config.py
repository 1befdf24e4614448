"""Run configurations on the command line: ``--config aof=everysec``, with the keys
``aof``, ``maxmemory``, ``topology``, ``server`` and ``durability``; a
:class:`RunConfig` inside (a :class:`Persistence` for the callers that run one Redis)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from duetime.chaos.system.redis_server import AOF_MODES, MAXMEMORY_POLICIES, Persistence
from duetime.chaos.system.run_config import DURABILITIES, SERVERS, TOPOLOGIES, RunConfig

PERSISTENCE_KEYS = {"aof": AOF_MODES, "maxmemory": MAXMEMORY_POLICIES}
RUN_KEYS = {"topology": TOPOLOGIES, "server": SERVERS, "durability": DURABILITIES}
CONFIG_KEYS = {**RUN_KEYS, **PERSISTENCE_KEYS}
DEFAULT_CONFIG = "aof=everysec"
SHAPE = "--config must look like aof=everysec, maxmemory=noeviction or topology=replicated"


class ConfigError(ValueError):
    """A --config value that does not parse."""


def config_help() -> str:
    """Every key and its values, for --help and error messages."""
    return "; ".join(f"{k}={'|'.join(v)}" for k, v in CONFIG_KEYS.items())


def parse_run_config(text: str) -> RunConfig:
    """One configuration, e.g. ``topology=replicated,server=valkey,aof=everysec`` (a run's
    label parses back to its config)."""
    configs = expand_run_configs([text])
    if len(configs) != 1:
        raise ConfigError(f"expected one configuration, got {len(configs)} from {text!r}")
    return configs[0]


def expand_run_configs(texts: Sequence[str]) -> list[RunConfig]:
    """Every combination of ``key=v1,v2`` options (``aof=off,no`` gives two configs;
    ``topology=replicated,cluster aof=off,no`` four). A value without ``=`` adds to the
    key before it, so a run's label (``aof=no,maxmemory=noeviction``) parses back to
    its config. Keys left out take their defaults (``aof=everysec``, ``topology=single``,
    ``server=redis``, ``durability=none``)."""
    choices: dict[str, list[str]] = {}
    for text in texts:
        key = ""
        for token in (t for t in re.split(r"[,\s]+", text) if t):
            name, sep, value = token.partition("=")
            if sep:
                key = name
                if key not in CONFIG_KEYS:
                    raise ConfigError(
                        f"--config keys are {', '.join(CONFIG_KEYS)} ({config_help()}), "
                        f"not {name!r} in {text!r}"
                    )
                choices[key] = []
                token = value
            elif not key:
                raise ConfigError(f"{SHAPE}, not {text!r}")
            if token:
                choices[key].append(token)
        if not key:
            raise ConfigError(f"{SHAPE}, not {text!r}")
    for key, wanted in choices.items():
        bad = [v for v in wanted if v not in CONFIG_KEYS[key]]
        if bad or not wanted:
            raise ConfigError(
                f"{key} takes {', '.join(CONFIG_KEYS[key])}; got {','.join(wanted)!r}"
            )
    configs = []
    for combo in itertools.product(*choices.values()):
        values = dict(zip(choices, combo, strict=True))
        persistence = Persistence(**{k: v for k, v in values.items() if k in PERSISTENCE_KEYS})
        configs.append(RunConfig(persistence, **{k: v for k, v in values.items() if k in RUN_KEYS}))
    return configs


def parse_config(text: str) -> Persistence:
    """One configuration of one redis-server: ``aof=MODE`` (``aof=off|no|everysec|always``),
    optionally with ``maxmemory=POLICY`` (``noeviction|allkeys-lru``)."""
    configs = expand_configs([text])
    if len(configs) != 1:
        raise ConfigError(f"expected one configuration, got {len(configs)} from {text!r}")
    return configs[0]


def expand_configs(texts: Sequence[str]) -> list[Persistence]:
    """:func:`expand_run_configs` for callers that run one default redis-server (explore,
    the pytest plugin): a topology, server or durability key is an error there, not
    silently dropped."""
    configs = expand_run_configs(texts)
    other = [c.label for c in configs if not c.is_default_topology]
    if other:
        raise ConfigError(
            f"this command runs one redis-server of the default kind: it takes aof= and "
            f"maxmemory= only, not {other[0]!r}"
        )
    return [c.persistence for c in configs]
