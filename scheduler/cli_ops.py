"""The operations commands of ``python -m duetime``: ``metrics`` (a Prometheus exporter for
a namespace), ``dashboard``, and the worker's ``--metrics-port``."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import redis
from prometheus_client import CollectorRegistry

from .client import Scheduler
from .errors import SchedulerError
from .metrics import NamespaceCollector, serve

log = logging.getLogger("duetime.ops")

DEFAULT_METRICS_ADDR = "0.0.0.0"
DEFAULT_DASHBOARD_PORT = 8377
TOKEN_ENV = "DUETIME_DASHBOARD_TOKEN"

Command = Callable[..., argparse.ArgumentParser]
Connect = Callable[..., Scheduler]


class CannotServe(SchedulerError):
    """A port that cannot be listened on (taken, or not allowed)."""


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {port}")
    return port


def serve_metrics(registry: CollectorRegistry, port: int, addr: str) -> Callable[[], None]:
    """Serve ``registry`` on ``addr:port``; raise :class:`CannotServe` saying why not."""
    try:
        stop = serve(registry, port, addr)
    except OSError as exc:
        raise CannotServe(f"cannot serve metrics on {addr}:{port}: {exc.strerror}") from None
    log.info("metrics on http://%s:%d/metrics", addr, port)
    return stop


def add_metrics_flags(worker: argparse.ArgumentParser) -> None:
    """The worker's ``--metrics-port`` and ``--metrics-addr``."""
    worker.add_argument(
        "--metrics-port",
        type=_port,
        default=None,
        metavar="PORT",
        help="serve this worker's Prometheus metrics on http://ADDR:PORT/metrics (default: off)",
    )
    worker.add_argument(
        "--metrics-addr",
        default=DEFAULT_METRICS_ADDR,
        metavar="ADDR",
        help="the address --metrics-port listens on",
    )


def _wait_for_signal() -> None:
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


def add_metrics_command(command: Command, connect: Connect) -> None:
    def cmd_metrics(args: argparse.Namespace) -> int:
        sched = connect(args, wait_for_redis=True)
        registry = CollectorRegistry()
        registry.register(NamespaceCollector(sched))
        stop = serve_metrics(registry, args.port, args.addr)
        log.info("exporting the gauges of namespace %r of %s", sched.namespace, sched.url)
        try:
            _wait_for_signal()
        finally:
            stop()
        return 0

    m = command(
        "metrics",
        "serve a namespace's gauges to Prometheus",
        "Serve the gauges of one namespace on http://ADDR:PORT/metrics, read from Redis\n"
        "at each scrape: tasks by state, the oldest due task's age, the workers alive.\n"
        "One exporter per namespace is enough; workers serve their own counters and\n"
        "histograms (worker --metrics-port).",
        "example:\n  python -m duetime metrics --namespace shop --port 9464",
    )
    m.add_argument("--port", type=_port, default=9464, help="the port to listen on")
    m.add_argument("--addr", default=DEFAULT_METRICS_ADDR, help="the address to listen on")
    m.set_defaults(func=cmd_metrics)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _token(args: argparse.Namespace) -> str | None:
    if args.token_file is not None:
        try:
            with open(args.token_file, encoding="utf-8") as f:
                token = f.readline().strip()
        except OSError as exc:
            raise argparse.ArgumentTypeError(
                f"--token-file: cannot read {args.token_file!r}: {exc.strerror}"
            ) from None
        if not token:
            raise argparse.ArgumentTypeError(f"--token-file: {args.token_file!r} is empty")
        return token
    return os.environ.get(TOKEN_ENV) or None


def add_dashboard_command(command: Command, connect: Connect) -> None:
    def cmd_dashboard(args: argparse.Namespace) -> int:
        try:
            from .dashboard.server import run_dashboard
        except ImportError as exc:
            raise CannotServe(
                f"the dashboard needs its extra: pip install 'duetime[dashboard]' ({exc})"
            ) from None
        try:
            token = _token(args)
        except argparse.ArgumentTypeError as exc:
            raise _usage(str(exc)) from None
        if not _loopback(args.host) and token is None:
            raise _usage(
                f"--host {args.host} is reachable from other machines: give a token for the "
                f"write actions (retry, purge) in ${TOKEN_ENV} or --token-file"
            )
        names: list[str] = args.namespace or []
        args.namespace = names[0] if names else "default"
        first = connect(args)
        schedulers: dict[str, Any] = {first.namespace: first} if names else {}
        discovered = names or _namespaces_in(first)
        for ns in discovered:
            if ns not in schedulers:
                args.namespace = ns
                schedulers[ns] = connect(args)
        if not schedulers:
            raise _usage("no namespace found in this Redis: name one with --namespace")
        try:
            run_dashboard(
                schedulers,
                host=args.host,
                port=args.port,
                token=token,
                metrics_urls=args.metrics_url or [],
            )
        except OSError as exc:
            raise CannotServe(
                f"cannot serve the dashboard on {args.host}:{args.port}: {exc.strerror}"
            ) from None
        return 0

    d = command(
        "dashboard",
        "serve a web page of the namespaces (127.0.0.1 by default)",
        "Serve a dashboard on http://HOST:PORT/: each namespace's tasks by state and\n"
        "their trend since the dashboard started (up to an hour), lateness percentiles\n"
        "(from the workers' metrics, --metrics-url), dead letters with retry and purge\n"
        "(each asks for a confirmation), recurring schedules and the workers alive.\n"
        "Bound to anything but loopback, it needs a token ($DUETIME_DASHBOARD_TOKEN or\n"
        "--token-file), which the page asks for before a retry or purge.\n"
        "Needs the extra: pip install 'duetime[dashboard]'.",
        "example:\n  python -m duetime dashboard --namespace shop "
        "--metrics-url http://127.0.0.1:9100/metrics",
        many_namespaces=True,
    )
    d.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    d.add_argument("--port", type=_port, default=DEFAULT_DASHBOARD_PORT, help="the port")
    d.add_argument(
        "--token-file",
        default=None,
        metavar="PATH",
        help=f"read the write actions' token from this file (default: ${TOKEN_ENV})",
    )
    d.add_argument(
        "--metrics-url",
        action="append",
        default=None,
        metavar="URL",
        help="a worker's /metrics to read lateness from; repeat for each worker",
    )
    d.set_defaults(func=cmd_dashboard)


def _usage(message: str) -> Exception:
    from .cli import UsageError  # the CLI's own: exit status 2

    return UsageError(message)


def _namespaces_in(sched: Scheduler) -> list[str]:
    """Namespaces with a key in this Redis (SCAN: needs +scan)."""
    found: set[str] = set()
    try:
        for key in sched.redis.scan_iter(match="dt:{*}:*", count=1000):
            text = key.decode(errors="replace") if isinstance(key, bytes) else str(key)
            # A shard's tag is "<namespace>#<shard>" ('#' is never in a namespace).
            found.add(text[len("dt:{") : text.index("}:")].partition("#")[0])
    except redis.ResponseError as exc:
        raise _usage(f"cannot look for namespaces ({exc}): name them with --namespace") from None
    return sorted(found)
