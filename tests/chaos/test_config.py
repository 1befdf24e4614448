from __future__ import annotations

import pytest

from duetime.chaos.config import ConfigError, expand_configs, parse_config


def test_one_config() -> None:
    assert parse_config("aof=always").aof == "always"


def test_comma_list_expands_to_one_config_each() -> None:
    labels = [p.label for p in expand_configs(["aof=off,no,everysec,always"])]
    assert labels == ["aof=off", "aof=no", "aof=everysec", "aof=always"]


@pytest.mark.parametrize("text", ["aof", "aof=sometimes", "fsync=always", "aof="])
def test_bad_configs_are_rejected(text: str) -> None:
    with pytest.raises(ConfigError):
        expand_configs([text])
