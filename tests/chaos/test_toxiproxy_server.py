"""The embedded Toxiproxy server's lifecycle.

In-process, and as ``python -m duetime.chaos.toxiproxy``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from duetime.chaos.system.redis_server import free_port
from duetime.chaos.toxiproxy import ToxiproxyServer

ROOT = Path(__file__).resolve().parents[2]


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def _server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("toxiproxy-")}


@pytest.fixture
def upstream() -> Iterator[socket.socket]:
    """A listener that accepts (via the backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock


def test_stop_closes_every_port_connection_and_thread(upstream: socket.socket) -> None:
    before, servers_before = set(threading.enumerate()), _server_threads()
    server = ToxiproxyServer(port=0).start()
    target = f"127.0.0.1:{upstream.getsockname()[1]}"
    created = [
        requests.post(
            f"{server.url}/proxies",
            json={"name": name, "listen": "127.0.0.1:0", "upstream": target},
            timeout=10,
        ).json()
        for name in ("a", "b")
    ]
    ports = [int(p["listen"].rsplit(":", 1)[1]) for p in created]
    with socket.create_connection(("127.0.0.1", ports[0]), timeout=5) as live:
        with requests.Session() as keep_alive:  # an idle keep-alive API connection too
            assert keep_alive.get(f"{server.url}/version", timeout=10).ok
            server.stop()
        assert live.recv(1) == b""
    assert not server.running
    assert all(_refused(port) for port in [server.port, *ports])
    assert _server_threads() == servers_before
    assert set(threading.enumerate()) <= before


def test_context_manager_and_restart_on_the_same_port() -> None:
    with ToxiproxyServer(port=0) as server:
        assert server.running
        assert requests.get(f"{server.url}/version", timeout=10).ok
        port = server.port
    assert not server.running and _refused(port)
    with server:
        assert server.port == port
        assert requests.get(f"{server.url}/proxies", timeout=10).json() == {}
    assert _refused(port)


def test_api_port_in_use_fails_to_start_and_leaves_no_thread() -> None:
    servers_before = _server_threads()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ToxiproxyServer(port=taken.getsockname()[1])
        with pytest.raises(OSError):
            server.start()
    assert not server.running
    assert _server_threads() == servers_before


def test_stop_is_idempotent() -> None:
    servers_before = _server_threads()
    server = ToxiproxyServer(port=0)
    server.stop()
    server.start()
    server.stop()
    server.stop()
    assert _server_threads() == servers_before


def test_populate_in_process(upstream: socket.socket) -> None:
    target = f"127.0.0.1:{upstream.getsockname()[1]}"
    with ToxiproxyServer(port=0) as server:
        config = json.dumps([{"name": "p", "listen": "127.0.0.1:0", "upstream": target}])
        (proxy,) = server.populate(config.encode())
        assert proxy["name"] == "p" and proxy["enabled"] is True
        with pytest.raises(ValueError, match="missing required field"):
            server.populate(b'[{"name": "q"}]')


def _wait_for_api(url: str, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            if requests.get(f"{url}/version", timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError("the API never answered")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_module_serves_until_signalled(
    signum: signal.Signals, upstream: socket.socket, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "proxies.json"
    target = f"127.0.0.1:{upstream.getsockname()[1]}"
    config.write_text(json.dumps([{"name": "cfg", "listen": "127.0.0.1:0", "upstream": target}]))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "duetime.chaos.toxiproxy",
            "--port",
            str(port),
            "--config",
            str(config),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for_api(url, proc)
        proxy = requests.get(f"{url}/proxies/cfg", timeout=5).json()
        proxy_port = int(proxy["listen"].rsplit(":", 1)[1])
        proc.send_signal(signum)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert _refused(port) and _refused(proxy_port)
