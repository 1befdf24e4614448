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


def test_the_maxmemory_axis_combines_with_aof() -> None:
    labels = [p.label for p in expand_configs(["aof=off,no", "maxmemory=noeviction,allkeys-lru"])]
    assert labels == [
        "aof=off,maxmemory=noeviction",
        "aof=off,maxmemory=allkeys-lru",
        "aof=no,maxmemory=noeviction",
        "aof=no,maxmemory=allkeys-lru",
    ]


@pytest.mark.parametrize("label", ["aof=no,maxmemory=allkeys-lru", "aof=always"])
def test_a_run_s_label_parses_back_to_its_config(label: str) -> None:
    assert parse_config(label).label == label


def test_only_an_evicting_policy_evicts() -> None:
    assert parse_config("aof=everysec,maxmemory=allkeys-lru").evicts
    assert not parse_config("aof=everysec,maxmemory=noeviction").evicts
    assert not parse_config("aof=everysec").evicts


@pytest.mark.parametrize(
    "text", ["maxmemory=volatile-lru", "maxmemory=", "aof=no,maxmemory", "memory=noeviction"]
)
def test_bad_maxmemory_configs_are_rejected(text: str) -> None:
    with pytest.raises(ConfigError):
        expand_configs([text])
