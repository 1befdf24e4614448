"""docker-compose.yml cannot run here (no Docker engine): check what can be checked.

It parses; its images, services and ports are the testbed's (chaos/backends/images.py);
the commands it runs parse with the testbed's and the scheduler's own parsers.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
import yaml
from run_helpers import REPO_ROOT

from duetime.chaos.cli import build_parser as chaos_parser
from duetime.chaos.system.backends.images import (
    REDIS_IMAGE,
    REDIS_PORT,
    TOXIPROXY_API_PORT,
    TOXIPROXY_IMAGE,
)
from duetime.chaos.toxiproxy.client import URL_VARIABLE
from duetime.cli import build_parser as scheduler_parser


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def flags(command: list[str]) -> dict[str, str]:
    """``-name=value`` arguments as a dict (Toxiproxy's flag style)."""
    return dict(arg.lstrip("-").split("=", 1) for arg in command if arg.startswith("-"))


def shell_line(command: list[str], program: str) -> list[str]:
    """The words of the ``program ...`` part of a ``sh -c`` command."""
    assert command[:2] == ["sh", "-c"]
    for part in command[2].split("&&"):
        words = shlex.split(part)
        if words[: len(program.split())] == program.split():
            return words[len(program.split()) :]
    raise AssertionError(f"no {program!r} in {command[2]!r}")


def test_it_has_redis_toxiproxy_workers_and_the_runner(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"redis", "toxiproxy", "worker", "runner"}
    assert compose["services"]["toxiproxy"]["image"] == TOXIPROXY_IMAGE
    assert compose["services"]["redis"]["image"] == REDIS_IMAGE
    assert TOXIPROXY_IMAGE.startswith("ghcr.io/shopify/toxiproxy:")


def test_the_runner_reaches_toxiproxys_api_on_its_port(compose: dict[str, Any]) -> None:
    toxiproxy, runner = compose["services"]["toxiproxy"], compose["services"]["runner"]
    assert int(flags(toxiproxy["command"])["port"]) == TOXIPROXY_API_PORT
    assert runner["network_mode"] == "service:toxiproxy"
    assert runner["environment"][URL_VARIABLE] == f"http://127.0.0.1:{TOXIPROXY_API_PORT}"
    assert "toxiproxy" in runner["depends_on"]


def test_the_runner_can_mount_the_power_loss_filesystem(compose: dict[str, Any]) -> None:
    runner = compose["services"]["runner"]
    assert "/dev/fuse" in runner["devices"]
    assert "SYS_ADMIN" in runner["cap_add"]
    install = runner["command"][2]
    assert all(pkg in install for pkg in ("redis-server", "fuse3", "libfuse3-3", ".[chaos]"))


def test_the_runner_runs_the_chaos_matrix(compose: dict[str, Any]) -> None:
    args = chaos_parser().parse_args(
        shell_line(compose["services"]["runner"]["command"], "python -m duetime.chaos")
    )
    assert args.command == "matrix" and args.directory == "scenarios/"
    assert args.config == ["aof=off,no,everysec,always"]
    assert (REPO_ROOT / args.directory).is_dir()


def test_the_demo_workers_reach_redis_through_a_toxiproxy_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    (proxy,) = json.loads(compose["configs"]["toxiproxy-proxies"]["content"])
    assert (
        f"-config={services['toxiproxy']['configs'][0]['target']}"
        in (services["toxiproxy"]["command"])
    )
    upstream_host, upstream_port = proxy["upstream"].split(":")
    assert upstream_host == "redis" and int(upstream_port) == REDIS_PORT
    assert "--port" not in services["redis"]["command"]  # redis-server's default: REDIS_PORT
    listen_port = int(proxy["listen"].rsplit(":", 1)[1])
    worker = services["worker"]
    assert worker["environment"]["DUETIME_URL"] == f"redis://toxiproxy:{listen_port}/0"
    args = scheduler_parser().parse_args(shell_line(worker["command"], "python -m duetime"))
    assert args.command == "worker"
    module, _, attr = args.handlers.partition(":")
    assert (REPO_ROOT / (module.replace(".", "/") + ".py")).is_file() and attr == "HANDLERS"
