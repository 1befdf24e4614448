"""The processes of a published design: ``python -m MODULE worker|cron ...``.

``worker`` takes the flags of ``python -m duetime worker`` that the cluster
passes (``--url --namespace --handlers --concurrency --lease``, and ``--no-cron``,
which designs accept and ignore: their workers never tick cron), plus
``--dispatch`` on the worker processes that also run the design's dispatcher.
``cron`` takes the flags of :mod:`duetime.chaos.system.cron_process` and records ``cron-ready``
just before it starts ticking. ``dispatcher`` (designs whose dispatcher is a process
of its own) takes ``--url --namespace``. Every command takes ``--param NAME=VALUE``
for the design's own parameters (a name the design does not know is a usage error).
All stop on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from duetime.chaos.client.workload import CronSpec
from duetime.chaos.history.ops import CRON_READY, DISPATCH
from duetime.chaos.history.sink import EventSink

from .contract import REDIS_DOWN

log = logging.getLogger("duetime.chaos.designs")

Handler = Callable[[Any], Any]


@dataclass(frozen=True)
class WorkerOptions:
    url: str
    namespace: str
    handlers: Mapping[str, Handler]
    concurrency: int
    lease_s: float
    dispatch: bool
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CronOptions:
    url: str
    namespace: str
    schedules: tuple[CronSpec, ...]
    handlers: Mapping[str, Handler]
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DispatcherOptions:
    url: str
    namespace: str
    params: Mapping[str, str] = field(default_factory=dict)


RunWorker = Callable[[WorkerOptions, threading.Event], None]
RunCron = Callable[[CronOptions, threading.Event], None]
RunDispatcher = Callable[[DispatcherOptions, threading.Event], None]


def parse_params(raw: Sequence[str], known: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` strings to a dict; raises ValueError naming what is wrong."""
    params: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep or name not in known:
            names = ", ".join(known) or "none"
            raise ValueError(f"--param takes NAME=VALUE with NAME one of: {names}; got {item!r}")
        params[name] = value
    return params


def float_param(params: Mapping[str, str], name: str, default: float) -> float:
    """A positive number parameter, ``default`` when absent; raises ValueError if invalid."""
    if name not in params:
        return default
    try:
        value = float(params[name])
    except ValueError:
        raise ValueError(f"--param {name} takes a number; got {params[name]!r}") from None
    if not value > 0:
        raise ValueError(f"--param {name} must be positive; got {params[name]!r}")
    return value


def keep_going(stop: threading.Event, pause_s: float, step: Callable[[], float | None]) -> None:
    """Call ``step`` until ``stop``; wait what it returns (or ``pause_s``) between calls.

    A Redis error is logged and waited out for ``pause_s``: every design is given a
    loop that survives an outage, so that what the testbed measures is the design,
    not a missing ``try``.
    """
    while not stop.is_set():
        try:
            wait = step()
        except REDIS_DOWN as exc:
            log.warning("redis unavailable: %s", exc)
            wait = pause_s
        if wait:
            stop.wait(wait)


def run_loops(
    stop: threading.Event,
    steps: Sequence[Callable[[], float | None]],
    pause_s: float,
    grace_s: float,
) -> None:
    """Run each step under :func:`keep_going` on a thread of its own until ``stop``; then
    give the threads ``grace_s`` together to finish what they are doing."""
    threads = [
        threading.Thread(target=keep_going, args=(stop, pause_s, step), daemon=True)
        for step in steps
    ]
    for t in threads:
        t.start()
    stop.wait()
    deadline = time.monotonic() + grace_s
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


def ready_for_cron() -> None:
    """Record that this cron process is ticking (the cron checker's "up" mark)."""
    EventSink.from_env().record("info", CRON_READY, {"pid": os.getpid()})


def dispatch_recorder() -> Callable[[int], None]:
    """What a dispatcher process calls after a round that moved ``n`` tasks: it records the
    round with its wall clock's skew, the clock-skew checker's evidence (it runs no handler)."""
    sink = EventSink.from_env()

    def record(moved: int) -> None:
        skew = round(time.time() - sink.clock.now(), 3)
        sink.record("info", DISPATCH, {"moved": moved, "wall_skew_s": skew, "pid": os.getpid()})

    return record


def main(
    argv: Sequence[str] | None,
    *,
    prog: str,
    run_worker: RunWorker,
    run_cron: RunCron | None = None,
    run_dispatcher: RunDispatcher | None = None,
    params: Sequence[str] = (),
    check_params: Callable[[Mapping[str, str]], object] | None = None,
) -> int:
    """Parse the command line, install the stop signals and run the chosen process.

    ``params`` are the names ``--param`` accepts; ``check_params`` validates their
    values (raising ValueError) before anything starts.
    """
    from duetime.cli import UsageError, load_handlers

    parser = argparse.ArgumentParser(prog=prog)
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="run handlers (and the dispatcher with --dispatch)")
    worker.add_argument("--url", required=True)
    worker.add_argument("--namespace", required=True)
    worker.add_argument("--handlers", default="duetime.chaos.client.handlers:HANDLERS")
    worker.add_argument("--concurrency", type=int, default=4)
    worker.add_argument("--lease", type=float, default=30.0, help="used by designs with one")
    worker.add_argument("--dispatch", action="store_true", help="also run the dispatcher")
    worker.add_argument("--no-cron", action="store_true", help="accepted; workers never tick")
    commands = [worker]
    if run_cron is not None:
        cron = sub.add_parser("cron", help="register the schedules, then tick")
        cron.add_argument("--url", required=True)
        cron.add_argument("--namespace", required=True)
        cron.add_argument("--schedules", required=True, help="JSON list of CronSpec fields")
        cron.add_argument("--handlers", default="duetime.chaos.client.handlers:HANDLERS")
        commands.append(cron)
    if run_dispatcher is not None:
        dispatcher = sub.add_parser("dispatcher", help="run the design's central dispatcher")
        dispatcher.add_argument("--url", required=True)
        dispatcher.add_argument("--namespace", required=True)
        commands.append(dispatcher)
    for command in commands:
        command.add_argument(
            "--param", action="append", default=[], metavar="NAME=VALUE", help="design parameter"
        )
    args = parser.parse_args(argv)
    try:
        given = parse_params(args.param, params)
        if check_params is not None:
            check_params(given)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    if args.command == "dispatcher":
        assert run_dispatcher is not None
        _stop_on_signals(stop)
        run_dispatcher(DispatcherOptions(args.url, args.namespace, given), stop)
        return 0
    try:
        handlers = load_handlers(args.handlers)
    except UsageError as exc:
        parser.error(str(exc))
    if args.command == "worker" and args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    _stop_on_signals(stop)
    if args.command == "worker":
        options = WorkerOptions(
            url=args.url,
            namespace=args.namespace,
            handlers=handlers,
            concurrency=args.concurrency,
            lease_s=args.lease,
            dispatch=args.dispatch,
            params=given,
        )
        run_worker(options, stop)
    else:
        assert run_cron is not None
        specs = tuple(CronSpec(**raw) for raw in json.loads(args.schedules))
        run_cron(CronOptions(args.url, args.namespace, specs, handlers, given), stop)
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
