"""Network nemeses against a Toxiproxy in another process: they act through its HTTP API
only (the one channel to another process), on the proxies of the clients they pick, and
their heal leaves the proxies as they found them. Needs redis-server."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from run_helpers import REPO_ROOT

from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.nemesis import NemesisContext, NetworkToxic, Partition
from duetime.chaos.nemesis.network_toxic import TOXIC_ATTRIBUTES
from duetime.chaos.report.live import LiveView
from duetime.chaos.system.cluster import Cluster, ClusterSettings
from duetime.chaos.system.redis_server import Persistence, free_port
from duetime.chaos.toxiproxy import TOXIC_TYPES
from duetime.chaos.toxiproxy.client import ToxiproxyError

WORKERS = ("worker-0", "worker-1", "worker-2")
PRODUCERS = ("producer-0",)


@pytest.fixture(scope="module")
def toxiproxy_url() -> Iterator[str]:
    """The embedded Toxiproxy served by its own process, reached only over HTTP."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "duetime.chaos", "toxiproxy", "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{url}/version", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the Toxiproxy process did not answer"
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def cluster(
    tmp_path: Path, toxiproxy_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cluster]:
    monkeypatch.setenv("TOXIPROXY_URL", toxiproxy_url)
    clock = TestbedClock.anchored_now()
    made = Cluster(
        settings=ClusterSettings(workers=len(WORKERS)),
        persistence=Persistence(aof="off"),
        run_dir=tmp_path,
        sink_dir=tmp_path / "sink",
        clock=clock,
        recorder=EventSink(tmp_path / "sink" / "cluster.jsonl", "cluster", clock),
        producers=len(PRODUCERS),
    )
    try:
        made.start_redis()
        made.route_clients_through_toxiproxy()
        yield made
    finally:
        made.stop()


def context(cluster: Cluster) -> NemesisContext:
    return NemesisContext(cluster, LiveView(cluster.sink_dir), random.Random(7), threading.Event())


def proxy_of(cluster: Cluster, client: str) -> str:
    route = cluster.routes.get(client) if cluster.routes else None
    assert route is not None
    return route.proxy


def server_view(url: str, cluster: Cluster) -> dict[str, Any]:
    """The run's proxies as the server reports them, by client name."""
    assert cluster.routes is not None
    proxies = requests.get(f"{url}/proxies", timeout=5).json()
    by_proxy = {proxy_of(cluster, c): c for c in cluster.routes.clients()}
    return {by_proxy[name]: p for name, p in proxies.items() if name in by_proxy}


def client_of(cluster: Cluster, name: str, timeout: float = 0.5) -> redis.Redis:
    return redis.Redis.from_url(
        cluster.url_for(name), socket_timeout=timeout, retry_on_timeout=False
    )


def answers(cluster: Cluster, name: str) -> bool:
    with client_of(cluster, name) as client:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False


def test_every_client_gets_a_proxy_of_its_own(cluster: Cluster, toxiproxy_url: str) -> None:
    view = server_view(toxiproxy_url, cluster)
    assert sorted(view) == sorted([*WORKERS, *PRODUCERS])
    assert {p["upstream"] for p in view.values()} == {f"127.0.0.1:{cluster.redis.port}"}
    assert len({cluster.url_for(c) for c in view}) == len(view)
    assert all(answers(cluster, c) for c in view)


def test_stopping_the_cluster_deletes_its_proxies(cluster: Cluster, toxiproxy_url: str) -> None:
    assert server_view(toxiproxy_url, cluster)
    names = [proxy_of(cluster, c) for c in WORKERS]
    cluster.stop()
    left = requests.get(f"{toxiproxy_url}/proxies", timeout=5).json()
    assert not set(names) & set(left)


def test_blackhole_partition_of_the_workers_heals(cluster: Cluster, toxiproxy_url: str) -> None:
    before = server_view(toxiproxy_url, cluster)
    fault = Partition(group="workers").inject(context(cluster))
    assert fault is not None and sorted(fault.targets) == list(WORKERS)
    view = server_view(toxiproxy_url, cluster)
    for worker in WORKERS:
        assert {(t["type"], t["stream"]) for t in view[worker]["toxics"]} == {
            ("timeout", "upstream"),
            ("timeout", "downstream"),
        }
        assert not answers(cluster, worker)
    assert view["producer-0"]["toxics"] == [] and answers(cluster, "producer-0")
    fault.heal()
    assert server_view(toxiproxy_url, cluster) == before
    assert all(answers(cluster, w) for w in WORKERS)


def test_refusing_one_worker_disables_only_its_proxy(cluster: Cluster, toxiproxy_url: str) -> None:
    fault = Partition(group="workers", count=1, how="refuse").inject(context(cluster))
    assert fault is not None and len(fault.targets) == 1
    (cut,) = fault.targets
    view = server_view(toxiproxy_url, cluster)
    assert {c for c, p in view.items() if not p["enabled"]} == {cut}
    with pytest.raises(redis.ConnectionError), client_of(cluster, cut) as client:
        client.ping()
    fault.heal()
    assert all(p["enabled"] for p in server_view(toxiproxy_url, cluster).values())
    assert answers(cluster, cut)


def test_a_one_way_blackhole_lets_writes_through_and_loses_replies(cluster: Cluster) -> None:
    with client_of(cluster, "producer-0") as client:
        client.ping()  # connected before the fault (a new connection's handshake would hang)
        fault = Partition(group="producers", stream="downstream").inject(context(cluster))
        assert fault is not None and fault.targets == PRODUCERS
        with pytest.raises(redis.TimeoutError):
            client.set("written-without-a-reply", 1)
    fault.heal()
    with redis.Redis.from_url(cluster.client_url) as direct:
        assert direct.get("written-without-a-reply") == b"1"


def test_latency_slows_every_client_both_ways_until_healed(
    cluster: Cluster, toxiproxy_url: str
) -> None:
    fault = NetworkToxic.latency(150).inject(context(cluster))
    assert fault is not None
    (toxic,) = server_view(toxiproxy_url, cluster)["worker-1"]["toxics"][:1]
    assert toxic["attributes"] == {"latency": 150, "jitter": 0}
    with client_of(cluster, "worker-1", timeout=5) as client:
        started = time.monotonic()
        client.ping()
        assert time.monotonic() - started >= 0.3  # 150 ms each way
    fault.heal()
    assert all(p["toxics"] == [] for p in server_view(toxiproxy_url, cluster).values())


@pytest.mark.parametrize(
    ("nemesis", "attributes"),
    [
        (NetworkToxic.reset_peer(0, stream="upstream"), {"timeout": 0}),
        (NetworkToxic.bandwidth(1, stream="downstream"), {"rate": 1}),
        (NetworkToxic.slow_close(500), {"delay": 500}),
        (NetworkToxic.limit_data(10, stream="downstream"), {"bytes": 10}),
    ],
    ids=lambda value: getattr(value, "toxic", ""),
)
def test_each_toxic_is_added_through_the_api_and_healed(
    cluster: Cluster, toxiproxy_url: str, nemesis: NetworkToxic, attributes: dict[str, int]
) -> None:
    fault = nemesis.inject(context(cluster))
    assert fault is not None and sorted(fault.targets) == sorted([*WORKERS, *PRODUCERS])
    streams = {"both": {"upstream", "downstream"}}.get(nemesis.stream, {nemesis.stream})
    for proxy in server_view(toxiproxy_url, cluster).values():
        assert {t["stream"] for t in proxy["toxics"]} == streams
        assert {(t["type"], tuple(sorted(t["attributes"].items()))) for t in proxy["toxics"]} == {
            (nemesis.toxic, tuple(sorted(attributes.items())))
        }
    fault.heal()
    assert all(p["toxics"] == [] for p in server_view(toxiproxy_url, cluster).values())


def test_reset_peer_and_limit_data_break_connections(cluster: Cluster) -> None:
    for nemesis in (NetworkToxic.reset_peer(0), NetworkToxic.limit_data(3, stream="downstream")):
        fault = nemesis.inject(context(cluster))
        assert fault is not None
        with pytest.raises(redis.ConnectionError), client_of(cluster, "worker-0") as client:
            client.ping()
        fault.heal()
        assert answers(cluster, "worker-0")


def test_a_half_applied_fault_is_undone(cluster: Cluster, toxiproxy_url: str) -> None:
    assert cluster.routes is not None
    cluster.routes.api.delete_proxy(proxy_of(cluster, "worker-2"))
    with pytest.raises(ToxiproxyError):
        Partition(group="workers").inject(context(cluster))
    assert all(p["toxics"] == [] for p in server_view(toxiproxy_url, cluster).values())


def test_toxic_attribute_names_match_the_toxiproxy_ones() -> None:
    assert set(TOXIC_ATTRIBUTES) == set(TOXIC_TYPES) - {"noop"}
    for name, attributes in TOXIC_ATTRIBUTES.items():
        assert attributes == tuple(TOXIC_TYPES[name]().attributes())


@pytest.mark.parametrize(
    "build",
    [
        lambda: NetworkToxic(toxic="latencyy"),
        lambda: NetworkToxic(toxic="latency", attributes=(("rate", 1),)),
        lambda: NetworkToxic.latency(-1),
        lambda: NetworkToxic.latency(10, toxicity=1.5),
        lambda: Partition(group="everyone"),
        lambda: Partition(count=0),
        lambda: Partition(how="refuse", stream="upstream"),
    ],
)
def test_bad_configurations_are_refused(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


def test_names_tell_the_faults_apart() -> None:
    names = {
        Partition(group="workers").name,
        Partition(group="workers", how="refuse").name,
        Partition(group="producers", stream="downstream").name,
        NetworkToxic.latency(10).name,
        NetworkToxic.latency(10, group="workers", stream="upstream").name,
    }
    assert names == {
        "partition_workers",
        "partition_workers_refused",
        "partition_producers_downstream",
        "latency",
        "latency_workers_upstream",
    }
