"""The testcontainers backend: Redis and the real Toxiproxy as containers.

Where no Docker engine answers (the development machines), the container tests skip
saying so, and the backend must refuse to start with that reason. Where one answers,
they start the real containers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from duetime.chaos.cli import build_parser
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.system.backends import BackendUnavailable, make_backend
from duetime.chaos.system.backends.containers import PublishedProxySite, redis_args
from duetime.chaos.system.backends.engine import docker_engine
from duetime.chaos.system.backends.images import PROXY_PORT_BASE, REDIS_PORT
from duetime.chaos.system.cluster import Cluster, ClusterSettings
from duetime.chaos.system.redis_server import Persistence
from duetime.chaos.toxiproxy.client import ProxyInfo

ENGINE, ENGINE_NOTE = docker_engine()
needs_engine = pytest.mark.skipif(
    not ENGINE, reason=f"testcontainers backend untested here: {ENGINE_NOTE}"
)


def test_without_an_engine_the_backend_refuses_to_start_saying_why() -> None:
    if ENGINE:
        pytest.skip(f"a Docker engine answers here ({ENGINE_NOTE})")
    assert "no Docker engine answers" in ENGINE_NOTE
    with pytest.raises(BackendUnavailable, match="needs a Docker engine: no Docker engine"):
        make_backend("testcontainers")


def test_without_an_engine_the_backend_flag_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if ENGINE:
        pytest.skip(f"a Docker engine answers here ({ENGINE_NOTE})")
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(
            ["run", "scenarios/kill_workers.py", "--backend", "testcontainers"]
        )
    assert exited.value.code == 2
    assert "no Docker engine answers" in capsys.readouterr().err


def test_unknown_backends_are_refused() -> None:
    with pytest.raises(BackendUnavailable, match="choose from local, testcontainers"):
        make_backend("kubernetes")


def test_redis_runs_with_the_persistence_directives_as_arguments() -> None:
    assert redis_args(Persistence(aof="everysec")) == [
        "redis-server",
        "--port",
        str(REDIS_PORT),
        "--dir",
        "/data",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
    ]
    assert redis_args(Persistence(aof="off", rdb="60 1"))[-4:] == [
        "--save",
        "60 1",
        "--appendonly",
        "no",
    ]


def test_published_proxy_slots_map_inside_ports_to_loopback_ones() -> None:
    site = PublishedProxySite("http://127.0.0.1:1", published=(40001, 40002))
    proxy = ProxyInfo("p", f"[::]:{PROXY_PORT_BASE + 1}", "redis:6379", True)
    assert site.slots == 2
    assert site.listen(1) == f"0.0.0.0:{PROXY_PORT_BASE + 1}"
    assert site.client_address(proxy, 1) == ("127.0.0.1", 40002)


@pytest.fixture
def container_cluster(tmp_path: Path) -> Iterator[Cluster]:
    clock = TestbedClock.anchored_now()
    cluster = Cluster(
        settings=ClusterSettings(workers=2),
        persistence=Persistence(aof="always"),
        run_dir=tmp_path,
        sink_dir=tmp_path / "sink",
        clock=clock,
        recorder=EventSink(tmp_path / "sink" / "cluster.jsonl", "cluster", clock),
        backend=make_backend("testcontainers"),
        producers=1,
    )
    try:
        yield cluster
    finally:
        cluster.stop()


@needs_engine
def test_containers_serve_redis_through_the_real_toxiproxy(container_cluster: Cluster) -> None:
    cluster = container_cluster
    cluster.start_redis()
    routes = cluster.route_clients_through_toxiproxy()
    assert routes.clients() == ["producer-0", "worker-0", "worker-1"]
    with redis.Redis.from_url(cluster.url_for("worker-0"), socket_timeout=5) as client:
        client.set("through-toxiproxy", 1)
    cluster.kill_redis()
    cluster.restart_redis()
    with redis.Redis.from_url(cluster.url_for("producer-0"), socket_timeout=5) as client:
        assert client.get("through-toxiproxy") == b"1"  # always: the AOF kept it
