"""The testbed's façade: ``toxiproxy_endpoint()`` and ``ToxiproxyClient`` over toxiproxy-python."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest

from duetime.chaos.system.redis_server import free_port
from duetime.chaos.toxiproxy import ToxiproxyServer
from duetime.chaos.toxiproxy.client import ToxiproxyClient, ToxiproxyError, toxiproxy_endpoint


@pytest.fixture(scope="module")
def client() -> Iterator[ToxiproxyClient]:
    with toxiproxy_endpoint() as url:
        yield ToxiproxyClient(url)


@pytest.fixture
def name(client: ToxiproxyClient) -> Iterator[str]:
    proxy = f"facade_{uuid.uuid4().hex[:10]}"
    yield proxy
    with contextlib.suppress(ToxiproxyError):
        client.delete_proxy(proxy)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_endpoint_uses_the_configured_url_without_starting_anything() -> None:
    before = threading.active_count()
    with toxiproxy_endpoint({"TOXIPROXY_URL": "http://toxiproxy.invalid:9/"}) as url:
        assert url == "http://toxiproxy.invalid:9"
        assert threading.active_count() == before


def test_endpoint_starts_and_stops_an_embedded_server() -> None:
    with toxiproxy_endpoint({}) as url:
        assert ToxiproxyClient(url).version()
        port = int(url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_rejects_urls_it_cannot_use() -> None:
    for bad in ("localhost:8474", "https://h:1", "http://h"):
        with pytest.raises(ValueError):
            ToxiproxyClient(bad)


def test_proxy_and_toxic_round_trip(client: ToxiproxyClient, name: str, upstream: str) -> None:
    proxy = client.create_proxy(name, upstream)
    assert (proxy.name, proxy.upstream, proxy.enabled, proxy.host) == (
        name,
        upstream,
        True,
        "127.0.0.1",
    )
    assert proxy.port > 0 and client.proxy(name) == proxy

    added = client.add_toxic(name, "latency", attributes={"latency": 50})
    cut = client.add_toxic(name, "limit_data", stream="upstream", name="cut", toxicity=0.5)
    assert (added, cut) == ("latency_downstream", "cut")
    toxics = {t.name: t for t in client.toxics(name)}
    assert toxics["latency_downstream"].attributes == {"latency": 50, "jitter": 0}
    assert (toxics["cut"].stream, toxics["cut"].toxicity) == ("upstream", 0.5)
    client.remove_toxic(name, "cut")
    assert [t.name for t in client.toxics(name)] == ["latency_downstream"]

    client.set_enabled(name, False)
    assert client.proxy(name).enabled is False
    client.set_enabled(name, True)
    assert client.proxy(name) == proxy

    client.delete_proxy(name)
    assert name not in client.proxies()


def test_set_upstream_repoints_a_proxy_at_the_same_address(
    client: ToxiproxyClient, name: str
) -> None:
    with socket.socket() as first, socket.socket() as second:
        for sock in (first, second):
            sock.bind(("127.0.0.1", 0))
            sock.listen(4)
        old, new = (f"127.0.0.1:{sock.getsockname()[1]}" for sock in (first, second))
        before = client.create_proxy(name, old)
        after = client.set_upstream(name, new)
        assert after.upstream == new
        assert (after.port, after.enabled) == (before.port, True)
        with socket.create_connection((after.host, after.port), timeout=2):
            second.settimeout(2)
            accepted, _ = second.accept()  # the connection went to the new upstream
            accepted.close()
    with pytest.raises(ToxiproxyError) as caught:
        client.set_upstream("facade_absent", "127.0.0.1:1")
    assert caught.value.status == 404


def test_errors_carry_the_status(client: ToxiproxyClient, name: str, upstream: str) -> None:
    client.create_proxy(name, upstream)
    cases: list[tuple[Callable[[], object], int]] = [
        (lambda: client.create_proxy(name, upstream), 409),
        (lambda: client.add_toxic(name, "no_such_toxic"), 400),
        (lambda: client.remove_toxic(name, "absent"), 404),
        (lambda: client.proxy("facade_absent"), 404),
    ]
    for call, status in cases:
        with pytest.raises(ToxiproxyError) as caught:
            call()
        assert caught.value.status == status
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ToxiproxyError) as caught:
            client.create_proxy(f"{name}_x", upstream, listen=f"127.0.0.1:{taken.getsockname()[1]}")
        assert caught.value.status == 500


def test_clients_of_two_servers_do_not_mix(upstream: str) -> None:
    with ToxiproxyServer(port=0) as first, ToxiproxyServer(port=0) as second:
        one, two = ToxiproxyClient(first.url), ToxiproxyClient(second.url)
        one.create_proxy("only_on_first", upstream, listen=f"127.0.0.1:{free_port()}")
        two.create_proxy("only_on_second", upstream)
        assert set(one.proxies()) == {"only_on_first"}
        assert set(two.proxies()) == {"only_on_second"}
        one.reset()
        assert set(two.proxies()) == {"only_on_second"}
