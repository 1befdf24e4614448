"""Toxiproxy conformance: the HTTP API and the toxics, as clients and sockets see them.

Runs against ``$TOXIPROXY_URL`` if set (the real server, which must reach this
machine's loopback and be reachable on it), else against the embedded server.
Every proxy a test creates is deleted afterwards; traffic goes over real TCP to a
small echo server and to a real redis-server.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
import requests
import toxiproxy
from redis.backoff import NoBackoff
from redis.retry import Retry
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from duetime.chaos.system.redis_server import RedisServer, free_port
from duetime.chaos.toxiproxy.client import toxiproxy_endpoint

Json = dict[str, Any]


class _Upstream(socketserver.ThreadingTCPServer):
    """A loopback TCP server that tracks its connections so it can close them all."""

    daemon_threads = False
    allow_reuse_address = True

    def __init__(self, handler: type[socketserver.BaseRequestHandler]) -> None:
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.open.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self.lock:
                self.open.discard(request)

    def close(self) -> None:
        self.shutdown()
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self.thread.join()


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        with contextlib.suppress(OSError):
            while data := self.request.recv(65536):
                self.request.sendall(data)


class _ByeAndClose(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"bye")


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with toxiproxy_endpoint() as url:
        yield url


@pytest.fixture(scope="module")
def http(api_url: str) -> Iterator[Callable[..., requests.Response]]:
    """``http(method, path, json=...)`` against the server, raw: no status checks."""
    with requests.Session() as session:

        def call(method: str, path: str, **kwargs: Any) -> requests.Response:
            return session.request(method, api_url + path, timeout=30, **kwargs)

        yield call


@pytest.fixture(scope="module")
def echo() -> Iterator[_Upstream]:
    server = _Upstream(_Echo)
    yield server
    server.close()


@pytest.fixture(scope="module")
def bye() -> Iterator[_Upstream]:
    server = _Upstream(_ByeAndClose)
    yield server
    server.close()


@pytest.fixture
def tp(api_url: str) -> toxiproxy.Toxiproxy:
    """The toxiproxy-python client, pointed at the server (its address is class state)."""
    server = toxiproxy.Toxiproxy()
    host, port = api_url.removeprefix("http://").rsplit(":", 1)
    server.update_api_consumer(host, int(port))
    return server


@pytest.fixture
def names(http: Callable[..., requests.Response]) -> Iterator[Callable[[], str]]:
    """Fresh proxy names; every proxy so named is deleted after the test."""
    made: list[str] = []

    def fresh() -> str:
        made.append(f"conf_{uuid.uuid4().hex[:10]}")
        return made[-1]

    yield fresh
    for name in made:
        http("DELETE", f"/proxies/{name}")


@pytest.fixture
def make_proxy(
    http: Callable[..., requests.Response], names: Callable[[], str]
) -> Callable[..., Json]:
    def make(upstream: str, **fields: Any) -> Json:
        body = {"name": names(), "upstream": upstream, "listen": "127.0.0.1:0", **fields}
        response = http("POST", "/proxies", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


def _port(proxy: Json) -> int:
    return int(proxy["listen"].rsplit(":", 1)[1])


def _connect(proxy: Json, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", _port(proxy)), timeout=timeout)


def _roundtrip(sock: socket.socket, data: bytes) -> tuple[bytes, float]:
    """Send ``data`` and read until as many bytes came back; returns them and the time taken."""
    started = time.monotonic()
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got, time.monotonic() - started


def _read_until_closed(sock: socket.socket) -> bytes:
    got = b""
    while chunk := sock.recv(65536):
        got += chunk
    return got


def _closed_by_peer(sock: socket.socket) -> bool:
    """True if the peer closed or reset the connection (no data pending)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _add_toxic(
    http: Callable[..., requests.Response], proxy: Json, **body: Any
) -> requests.Response:
    return http("POST", f"/proxies/{proxy['name']}/toxics", json=body)


def _assert_error(response: requests.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]


# --- routes, status codes, shapes ------------------------------------------------------


def test_version_is_json(http: Callable[..., requests.Response]) -> None:
    response = http("GET", "/version")
    assert response.status_code == 200
    assert isinstance(response.json()["version"], str)


def test_create_proxy_reports_the_real_port(
    http: Callable[..., requests.Response], names: Callable[[], str], echo: _Upstream
) -> None:
    name = names()
    response = http(
        "POST", "/proxies", json={"name": name, "listen": "127.0.0.1:0", "upstream": echo.address}
    )
    assert response.status_code == 201
    proxy = response.json()
    assert set(proxy) == {"name", "listen", "upstream", "enabled", "toxics"}
    assert proxy["name"] == name
    assert proxy["upstream"] == echo.address
    assert proxy["enabled"] is True
    assert proxy["toxics"] == []
    assert proxy["listen"].startswith("127.0.0.1:") and _port(proxy) > 0


def test_create_on_any_address_reports_the_real_port(
    http: Callable[..., requests.Response], names: Callable[[], str], echo: _Upstream
) -> None:
    response = http(
        "POST", "/proxies", json={"name": names(), "listen": ":0", "upstream": echo.address}
    )
    assert response.status_code == 201
    assert _port(response.json()) > 0


def test_disabled_on_creation_does_not_listen(
    http: Callable[..., requests.Response], names: Callable[[], str], echo: _Upstream
) -> None:
    port = free_port()
    body = {"name": names(), "listen": f"127.0.0.1:{port}", "upstream": echo.address}
    response = http("POST", "/proxies", json={**body, "enabled": False})
    assert response.status_code == 201
    assert response.json()["enabled"] is False
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_create_errors(
    http: Callable[..., requests.Response],
    make_proxy: Callable[..., Json],
    echo: _Upstream,
) -> None:
    proxy = make_proxy(echo.address)
    _assert_error(http("POST", "/proxies", json={**proxy, "listen": "127.0.0.1:0"}), 409)
    _assert_error(http("POST", "/proxies", json={"upstream": echo.address}), 400)
    _assert_error(http("POST", "/proxies", json={"name": "conf_no_upstream"}), 400)
    _assert_error(http("POST", "/proxies", data=b"{not json"), 400)
    _assert_error(http("POST", "/proxies", json={"name": 3, "upstream": echo.address}), 400)
    assert "conf_no_upstream" not in http("GET", "/proxies").json()


def test_listen_failure_is_500(
    http: Callable[..., requests.Response], names: Callable[[], str], echo: _Upstream
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        body = {"name": names(), "listen": f"127.0.0.1:{port}", "upstream": echo.address}
        _assert_error(http("POST", "/proxies", json=body), 500)


def test_proxy_index_show_and_missing(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    index = http("GET", "/proxies")
    assert index.status_code == 200
    assert index.json()[proxy["name"]] == proxy
    shown = http("GET", f"/proxies/{proxy['name']}")
    assert shown.status_code == 200 and shown.json() == proxy
    _assert_error(http("GET", "/proxies/conf_missing"), 404)
    _assert_error(http("PATCH", "/proxies/conf_missing", json={"enabled": False}), 404)
    _assert_error(http("DELETE", "/proxies/conf_missing"), 404)


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_enables_and_disables_on_the_same_address(
    method: str,
    http: Callable[..., requests.Response],
    make_proxy: Callable[..., Json],
    echo: _Upstream,
) -> None:
    proxy = make_proxy(echo.address)
    path = f"/proxies/{proxy['name']}"
    disabled = http(method, path, json={"enabled": False})
    assert disabled.status_code == 200
    assert disabled.json() == {**proxy, "enabled": False}
    enabled = http(method, path, json={"enabled": True})
    assert enabled.status_code == 200
    assert enabled.json() == proxy
    _assert_error(http(method, path, data=b"[1"), 400)


def test_update_upstream_restarts_the_proxy(
    http: Callable[..., requests.Response],
    make_proxy: Callable[..., Json],
    echo: _Upstream,
    bye: _Upstream,
) -> None:
    proxy = make_proxy(echo.address)
    with _connect(proxy) as live:
        updated = http("PATCH", f"/proxies/{proxy['name']}", json={"upstream": bye.address})
        assert updated.status_code == 200
        assert updated.json()["upstream"] == bye.address
        assert updated.json()["listen"] == proxy["listen"]
        assert _closed_by_peer(live)
    with _connect(updated.json()) as fresh:
        assert _read_until_closed(fresh) == b"bye"


def test_delete_proxy_closes_its_port(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    deleted = http("DELETE", f"/proxies/{proxy['name']}")
    assert deleted.status_code == 204 and deleted.content == b""
    _assert_error(http("DELETE", f"/proxies/{proxy['name']}"), 404)
    with pytest.raises(ConnectionRefusedError):
        _connect(proxy).close()


def test_toxic_defaults_and_shape(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    created = _add_toxic(http, proxy, type="latency", attributes={"latency": 10})
    assert created.status_code == 200
    assert created.json() == {
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": {"latency": 10, "jitter": 0},
    }
    upstream = _add_toxic(http, proxy, type="noop", stream="upstream", toxicity=0.5)
    assert upstream.status_code == 200
    assert upstream.json()["name"] == "noop_upstream"
    assert upstream.json()["toxicity"] == 0.5
    listed = http("GET", f"/proxies/{proxy['name']}/toxics")
    assert listed.status_code == 200
    assert {t["name"] for t in listed.json()} == {"latency_downstream", "noop_upstream"}
    shown = http("GET", f"/proxies/{proxy['name']}/toxics/latency_downstream")
    assert shown.status_code == 200 and shown.json() == created.json()
    in_proxy = http("GET", f"/proxies/{proxy['name']}").json()["toxics"]
    assert sorted(in_proxy, key=lambda t: t["name"]) == sorted(
        listed.json(), key=lambda t: t["name"]
    )


def test_toxic_errors(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    assert _add_toxic(http, proxy, name="dup", type="latency").status_code == 200
    _assert_error(_add_toxic(http, proxy, name="dup", type="latency"), 409)
    _assert_error(_add_toxic(http, proxy, name="dup", type="noop", stream="upstream"), 409)
    _assert_error(_add_toxic(http, proxy, type="latency", stream="sideways"), 400)
    _assert_error(_add_toxic(http, proxy, type="no_such_toxic"), 400)
    _assert_error(_add_toxic(http, proxy, type="latency", attributes={"latency": "slow"}), 400)
    _assert_error(http("POST", f"/proxies/{proxy['name']}/toxics", data=b"nope"), 400)
    _assert_error(http("POST", "/proxies/conf_missing/toxics", json={"type": "noop"}), 404)
    _assert_error(http("GET", "/proxies/conf_missing/toxics"), 404)
    _assert_error(http("GET", f"/proxies/{proxy['name']}/toxics/nope"), 404)
    _assert_error(http("PATCH", f"/proxies/{proxy['name']}/toxics/nope", json={}), 404)
    _assert_error(http("DELETE", f"/proxies/{proxy['name']}/toxics/nope"), 404)


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_toxic_update_merges_attributes(
    method: str,
    http: Callable[..., requests.Response],
    make_proxy: Callable[..., Json],
    echo: _Upstream,
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="latency", attributes={"latency": 100, "jitter": 10})
    path = f"/proxies/{proxy['name']}/toxics/latency_downstream"
    updated = http(method, path, json={"attributes": {"latency": 200}, "toxicity": 0.25})
    assert updated.status_code == 200
    assert updated.json()["attributes"] == {"latency": 200, "jitter": 10}
    assert updated.json()["toxicity"] == 0.25
    assert http("GET", path).json() == updated.json()


def test_toxic_delete(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="noop")
    path = f"/proxies/{proxy['name']}/toxics/noop_downstream"
    deleted = http("DELETE", path)
    assert deleted.status_code == 204 and deleted.content == b""
    _assert_error(http("DELETE", path), 404)
    assert http("GET", f"/proxies/{proxy['name']}/toxics").json() == []


def test_reset_enables_every_proxy_and_removes_every_toxic(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    poisoned = make_proxy(echo.address)
    down = make_proxy(echo.address)
    http("PATCH", f"/proxies/{down['name']}", json={"enabled": False})
    with _connect(poisoned) as live:
        _add_toxic(http, poisoned, type="latency", attributes={"latency": 1000})
        _add_toxic(http, poisoned, type="timeout", stream="upstream")
        reset = http("POST", "/reset")
        assert reset.status_code == 204 and reset.content == b""
        assert _closed_by_peer(live)  # removing a timeout toxic closes its connections
    for proxy in (poisoned, down):
        assert http("GET", f"/proxies/{proxy['name']}").json() == {**proxy, "toxics": []}
        with _connect(proxy) as sock:
            got, took = _roundtrip(sock, b"after reset")
        assert got == b"after reset" and took < 0.5


def test_populate_creates_keeps_and_replaces(
    http: Callable[..., requests.Response],
    names: Callable[[], str],
    echo: _Upstream,
    bye: _Upstream,
) -> None:
    first, second = names(), names()
    wanted = [
        {"name": first, "listen": "127.0.0.1:0", "upstream": echo.address},
        {"name": second, "listen": "127.0.0.1:0", "upstream": echo.address, "enabled": False},
    ]
    created = http("POST", "/populate", json=wanted)
    assert created.status_code == 201
    proxies = {p["name"]: p for p in created.json()["proxies"]}
    assert set(proxies) == {first, second}
    assert proxies[first]["enabled"] is True and _port(proxies[first]) > 0
    assert proxies[second]["enabled"] is False

    _add_toxic(http, proxies[first], type="noop")
    with _connect(proxies[first]) as live:
        again = http("POST", "/populate", json=[{**proxies[first], "toxics": None}])
        assert again.status_code == 201
        assert [p["name"] for p in again.json()["proxies"]] == [first]
        kept = http("GET", f"/proxies/{first}").json()
        assert [t["name"] for t in kept["toxics"]] == ["noop_downstream"]
        assert _roundtrip(live, b"still here")[0] == b"still here"

    changed = [{"name": first, "listen": proxies[first]["listen"], "upstream": bye.address}]
    replaced = http("POST", "/populate", json=changed)
    assert replaced.status_code == 201
    assert replaced.json()["proxies"][0]["upstream"] == bye.address
    assert http("GET", f"/proxies/{first}").json()["upstream"] == bye.address


def test_populate_rejects_an_incomplete_list_whole(
    http: Callable[..., requests.Response], names: Callable[[], str], echo: _Upstream
) -> None:
    good, bad = names(), names()
    wanted = [
        {"name": good, "listen": "127.0.0.1:0", "upstream": echo.address},
        {"name": bad, "listen": "127.0.0.1:0"},
    ]
    _assert_error(http("POST", "/populate", json=wanted), 400)
    assert good not in http("GET", "/proxies").json()
    _assert_error(http("POST", "/populate", json={"name": good}), 400)


def test_unknown_routes_and_methods(http: Callable[..., requests.Response]) -> None:
    assert http("GET", "/nowhere").status_code == 404
    assert http("PUT", "/proxies").status_code == 405
    assert http("DELETE", "/reset").status_code == 405


def test_browsers_are_refused(http: Callable[..., requests.Response]) -> None:
    assert http("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"}).status_code == 403


# --- the toxiproxy-python client -------------------------------------------------------


def test_python_client_lifecycle(
    tp: toxiproxy.Toxiproxy, names: Callable[[], str], echo: _Upstream
) -> None:
    assert tp.running()
    assert b"version" in tp.version()
    name = names()
    proxy = tp.create(upstream=echo.address, name=name)
    assert proxy.name == name and proxy.enabled is True
    assert name in tp.proxies()
    assert tp.get_proxy(name).listen == proxy.listen
    with pytest.raises(ProxyExists):
        tp.create(upstream=echo.address, name=name)

    proxy.add_toxic(type="latency", attributes={"latency": 5})
    proxy.add_toxic(type="slicer", stream="upstream", name="cut", toxicity=0.5)
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "cut"}
    assert toxics["cut"].stream == "upstream" and toxics["cut"].toxicity == 0.5
    assert proxy.get_toxic("latency_downstream").attributes == {"latency": 5, "jitter": 0}
    with pytest.raises(ProxyExists):
        proxy.add_toxic(type="noop", name="cut")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="no_such_toxic")
    assert proxy.destroy_toxic("cut")
    with pytest.raises(NotFound):
        proxy.destroy_toxic("cut")

    proxy.disable()
    assert tp.get_proxy(name).enabled is False
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(proxy.listen.rsplit(":", 1)[1])), 2).close()
    with proxy.down():
        assert tp.get_proxy(name).enabled is False
    assert tp.get_proxy(name).enabled is True
    assert tp.reset()
    assert proxy.toxics() == {}
    assert proxy.destroy()
    assert tp.get_proxy(name) is None
    with pytest.raises(NotFound):
        proxy.destroy()


def test_python_client_populate(
    tp: toxiproxy.Toxiproxy, names: Callable[[], str], echo: _Upstream, bye: _Upstream
) -> None:
    name = names()
    listen = f"127.0.0.1:{free_port()}"
    created = tp.populate([{"name": name, "upstream": echo.address, "listen": listen}])
    assert [p.name for p in created] == [name]
    assert tp.populate([{"name": name, "upstream": echo.address, "listen": listen}]) == []
    replaced = tp.populate([{"name": name, "upstream": bye.address, "listen": listen}])
    assert [p.upstream for p in replaced] == [bye.address]


# --- behaviour over real TCP -----------------------------------------------------------


def test_bytes_pass_through_both_ways(make_proxy: Callable[..., Json], echo: _Upstream) -> None:
    proxy = make_proxy(echo.address)
    payload = bytes(range(256)) * 1000
    with _connect(proxy) as sock:
        got, _ = _roundtrip(sock, payload)
    assert got == payload


def test_disable_refuses_new_connections_and_kills_live_ones(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    with _connect(proxy) as live:
        assert _roundtrip(live, b"hi")[0] == b"hi"
        http("PATCH", f"/proxies/{proxy['name']}", json={"enabled": False})
        assert _closed_by_peer(live)
    with pytest.raises(ConnectionRefusedError):
        _connect(proxy).close()
    http("PATCH", f"/proxies/{proxy['name']}", json={"enabled": True})
    with _connect(proxy) as again:
        assert _roundtrip(again, b"back")[0] == b"back"


def test_unreachable_upstream_accepts_then_closes(make_proxy: Callable[..., Json]) -> None:
    proxy = make_proxy(f"127.0.0.1:{free_port()}")
    with _connect(proxy, timeout=3) as sock:
        assert _closed_by_peer(sock)


def test_latency_applies_to_a_live_connection_and_goes_away(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    with _connect(proxy) as sock:
        _, before = _roundtrip(sock, b"a")
        _add_toxic(http, proxy, type="latency", attributes={"latency": 400})
        _, slowed = _roundtrip(sock, b"b")
        http("DELETE", f"/proxies/{proxy['name']}/toxics/latency_downstream")
        _, after = _roundtrip(sock, b"c")
    assert slowed >= 0.35
    assert before < slowed / 2 and after < slowed / 2


def test_latency_counts_from_when_each_chunk_was_read(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="latency", attributes={"latency": 500})
    with _connect(proxy) as sock:
        started = time.monotonic()
        for message in (b"1", b"2", b"3"):
            sock.sendall(message)
            time.sleep(0.1)
        got = b""
        while len(got) < 3:
            got += sock.recv(16)
        took = time.monotonic() - started
    assert got == b"123"
    # Chunks are delayed side by side (about 0.7 s), not one after another (1.5 s).
    assert 0.45 <= took < 1.1


def test_latency_delays_a_redis_ping(
    http: Callable[..., requests.Response],
    make_proxy: Callable[..., Json],
    redis_server: RedisServer,
) -> None:
    proxy = make_proxy(f"127.0.0.1:{redis_server.port}")
    client = redis.Redis(host="127.0.0.1", port=_port(proxy), socket_timeout=5)
    try:
        assert client.ping()
        started = time.monotonic()
        client.ping()
        plain = time.monotonic() - started
        _add_toxic(http, proxy, type="latency", attributes={"latency": 300})
        started = time.monotonic()
        assert client.ping()
        delayed = time.monotonic() - started
    finally:
        client.close()
    assert delayed >= 0.25
    assert plain < delayed / 2


def test_disabling_drops_a_redis_connection(
    http: Callable[..., requests.Response],
    make_proxy: Callable[..., Json],
    redis_server: RedisServer,
) -> None:
    proxy = make_proxy(f"127.0.0.1:{redis_server.port}")
    no_retry = Retry(NoBackoff(), 0)
    client = redis.Redis(host="127.0.0.1", port=_port(proxy), socket_timeout=2, retry=no_retry)
    try:
        assert client.ping()
        http("PATCH", f"/proxies/{proxy['name']}", json={"enabled": False})
        with pytest.raises(redis.ConnectionError):
            client.ping()
        http("PATCH", f"/proxies/{proxy['name']}", json={"enabled": True})
        assert client.ping()
    finally:
        client.close()


def test_timeout_zero_black_holes_until_removed_then_closes(
    http: Callable[..., requests.Response],
    make_proxy: Callable[..., Json],
    redis_server: RedisServer,
) -> None:
    proxy = make_proxy(f"127.0.0.1:{redis_server.port}")
    with _connect(proxy) as sock:
        assert _roundtrip(sock, b"PING\r\n")[0] == b"+PONG\r\n"
        _add_toxic(http, proxy, type="timeout", attributes={"timeout": 0})
        sock.settimeout(0.6)
        sock.sendall(b"PING\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(16)
        sock.settimeout(5)
        http("DELETE", f"/proxies/{proxy['name']}/toxics/timeout_downstream")
        assert _closed_by_peer(sock)


def test_timeout_closes_after_its_delay(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="timeout", attributes={"timeout": 300})
    with _connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(b"dropped")
        assert _read_until_closed(sock) == b""
        took = time.monotonic() - started
    assert 0.2 <= took < 3


def test_reset_peer_resets_the_connection(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="reset_peer", attributes={"timeout": 100})
    with _connect(proxy) as sock:
        sock.sendall(b"ping")
        with pytest.raises(ConnectionResetError):
            _read_until_closed(sock)


def test_limit_data_closes_after_that_many_bytes(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="limit_data", attributes={"bytes": 100})
    payload = bytes(range(250)) + bytes(range(50))
    with _connect(proxy) as sock:
        sock.sendall(payload[:150])
        time.sleep(0.05)
        with contextlib.suppress(OSError):
            sock.sendall(payload[150:])
        got = _read_until_closed(sock)
    assert got == payload[:100]


def test_bandwidth_slows_a_large_transfer(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    payload = b"x" * 40_000
    with _connect(proxy) as sock:
        got, plain = _roundtrip(sock, payload)
        assert got == payload
        _add_toxic(http, proxy, type="bandwidth", attributes={"rate": 50})
        got, limited = _roundtrip(sock, payload)
    assert got == payload
    assert limited >= 0.55  # 40 KB at 50 KB/s is 0.8 s
    assert plain < limited / 3


def test_slicer_delivers_everything_in_delayed_slices(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    attributes = {"average_size": 10, "size_variation": 3, "delay": 20_000}
    _add_toxic(http, proxy, type="slicer", attributes=attributes)
    payload = bytes(range(200))
    with _connect(proxy) as sock:
        got, took = _roundtrip(sock, payload)
    assert got == payload
    assert took >= 0.2  # about 20 slices 20 ms apart


def test_slow_close_holds_the_close(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], bye: _Upstream
) -> None:
    proxy = make_proxy(bye.address)
    with _connect(proxy) as sock:
        started = time.monotonic()
        assert _read_until_closed(sock) == b"bye"
        plain = time.monotonic() - started
    _add_toxic(http, proxy, type="slow_close", attributes={"delay": 400})
    with _connect(proxy) as sock:
        started = time.monotonic()
        assert _read_until_closed(sock) == b"bye"
        held = time.monotonic() - started
    assert held >= 0.35
    assert plain < held / 2


def test_noop_changes_nothing(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="noop")
    _add_toxic(http, proxy, type="noop", stream="upstream")
    with _connect(proxy) as sock:
        got, took = _roundtrip(sock, b"unchanged")
    assert got == b"unchanged" and took < 0.5


def _latencies(proxy: Json, connections: int) -> list[float]:
    """Round-trip time of one byte on each of ``connections`` fresh connections, at once."""

    def one(_: int) -> float:
        with _connect(proxy) as sock:
            return _roundtrip(sock, b"?")[1]

    with ThreadPoolExecutor(connections) as pool:
        return list(pool.map(one, range(connections)))


def test_toxicity_is_drawn_per_connection(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    never = make_proxy(echo.address)
    _add_toxic(http, never, type="latency", toxicity=0.0, attributes={"latency": 500})
    assert max(_latencies(never, 6)) < 0.4

    half = make_proxy(echo.address)
    _add_toxic(http, half, type="latency", toxicity=0.5, attributes={"latency": 500})
    times = _latencies(half, 16)  # all alike with probability 2 / 2**16
    assert any(t >= 0.45 for t in times) and any(t < 0.4 for t in times)


def test_raising_toxicity_redraws_on_live_connections(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="latency", toxicity=0.0, attributes={"latency": 500})
    with _connect(proxy) as sock:
        _, spared = _roundtrip(sock, b"a")
        path = f"/proxies/{proxy['name']}/toxics/latency_downstream"
        assert http("PATCH", path, json={"toxicity": 1.0}).status_code == 200
        _, hit = _roundtrip(sock, b"b")
    assert spared < 0.4 and hit >= 0.45


def test_removing_latency_releases_held_data_at_once(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    _add_toxic(http, proxy, type="latency", attributes={"latency": 2000})
    with _connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(b"held")
        time.sleep(0.2)
        http("DELETE", f"/proxies/{proxy['name']}/toxics/latency_downstream")
        got = sock.recv(16)
        took = time.monotonic() - started
    assert got == b"held" and took < 1.0


def test_changing_the_chain_under_traffic_loses_nothing(
    http: Callable[..., requests.Response], make_proxy: Callable[..., Json], echo: _Upstream
) -> None:
    proxy = make_proxy(echo.address)
    toxics = f"/proxies/{proxy['name']}/toxics"
    payload = bytes(range(256)) * 400
    received = bytearray()
    with _connect(proxy, timeout=10) as sock:

        def read() -> None:
            while len(received) < len(payload) and (chunk := sock.recv(65536)):
                received.extend(chunk)

        reader = threading.Thread(target=read)
        reader.start()
        _add_toxic(http, proxy, type="latency", attributes={"latency": 30})
        for start in range(0, len(payload), 10_000):
            sock.sendall(payload[start : start + 10_000])
            if start == 30_000:
                _add_toxic(http, proxy, type="slicer", attributes={"average_size": 500})
                _add_toxic(
                    http, proxy, type="bandwidth", stream="upstream", attributes={"rate": 2000}
                )
            if start == 60_000:
                http("PATCH", f"{toxics}/latency_downstream", json={"attributes": {"latency": 5}})
                http("DELETE", f"{toxics}/slicer_downstream")
            time.sleep(0.01)
        http("DELETE", f"{toxics}/bandwidth_upstream")
        reader.join(timeout=10)
    assert bytes(received) == payload
