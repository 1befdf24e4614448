"""``python -m duetime``: run workers and cron tickers, schedule tasks, read stats.

The only place that reads the environment (``DUETIME_URL``) and configures logging.
A password belongs in ``$DUETIME_URL`` or a ``--url-file``, not in ``--url``, which
every user of the machine can read in ``ps``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from .client import Scheduler
from .errors import SchedulerError
from .redact import mask_url
from .settings import DEFAULT_LEASE_S
from .worker import DEFAULT_CONCURRENCY, DEFAULT_SHUTDOWN_GRACE_S, Handler, Worker

DEFAULT_URL = "redis://127.0.0.1:6379/0"


class UsageError(Exception):
    pass


def load_handlers(spec: str) -> Mapping[str, Handler]:
    """Import ``MODULE:ATTR``, a dict of task type -> callable."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(
            f"--handlers must look like MODULE:ATTR (e.g. myapp.tasks:HANDLERS), not {spec!r}"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--handlers: cannot import {module_name!r}: {exc}") from None
    try:
        handlers = getattr(module, attr)
    except AttributeError:
        raise UsageError(f"--handlers: module {module_name!r} has no attribute {attr!r}") from None
    if not isinstance(handlers, Mapping) or not handlers:
        raise UsageError(f"--handlers: {spec} must be a non-empty dict of task type -> callable")
    return handlers


def parse_when(text: str) -> float | dt.datetime:
    """Epoch seconds, or an ISO-8601 time with a UTC offset."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at must be epoch seconds or an ISO-8601 time with an offset, not {text!r}"
        ) from None


def read_url_file(path: str) -> str:
    """The URL in ``path``: its first non-empty line, without surrounding blanks."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--url-file: cannot read {path!r}: {exc}") from None
    url = next((line for line in lines if line), "")
    if not url:
        raise UsageError(f"--url-file: {path!r} holds no URL")
    return url


def resolve_url(args: argparse.Namespace) -> str:
    """--url, else --url-file, else $DUETIME_URL, else the default."""
    if args.url is not None:
        if mask_url(args.url) != args.url:
            print(
                "warning: the password in --url is visible to every user of this machine "
                "(ps); use --url-file or $DUETIME_URL",
                file=sys.stderr,
            )
        return str(args.url)
    if args.url_file is not None:
        return read_url_file(args.url_file)
    return os.environ.get("DUETIME_URL") or DEFAULT_URL


def _scheduler(args: argparse.Namespace) -> Scheduler:
    return Scheduler.from_url(resolve_url(args), namespace=args.namespace)


def cmd_worker(args: argparse.Namespace) -> int:
    handlers = load_handlers(args.handlers)
    worker = args.worker_class(
        _scheduler(args),
        handlers,
        concurrency=args.concurrency,
        lease_s=args.lease,
        shutdown_grace_s=args.shutdown_grace,
        cron=not args.no_cron,
    )
    worker.run()
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--data must be JSON: {exc}") from None
    tid = _scheduler(args).schedule_task(
        parse_when(args.at),
        data,
        task_type=args.type,
        task_id=args.id,
        max_attempts=args.max_attempts,
    )
    print(tid)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    stats = asdict(_scheduler(args).stats())
    if args.json:
        print(json.dumps(stats))
    else:
        for k, v in stats.items():
            print(f"{k:>10}  {v}")
    return 0


def cmd_cron(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    sched.run_cron(stop)
    return 0


def cmd_dead(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    if args.action == "list":
        for info in sched.dead_letters(limit=args.limit):
            print(
                json.dumps(
                    {
                        "task_id": info.task_id,
                        "task_type": info.task_type,
                        "attempts": info.attempts,
                        "last_error": info.last_error,
                    }
                )
            )
    elif args.action == "retry":
        if not args.task_id:
            raise UsageError("dead retry needs a task id")
        sched.retry_dead(args.task_id)
    else:
        print(sched.purge_dead(args.task_id))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m duetime", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    env_url = os.environ.get("DUETIME_URL")
    # argparse %-formats help text; a percent-encoded URL must not break it.
    shown = f"$DUETIME_URL, now {mask_url(env_url)}" if env_url else DEFAULT_URL
    default_shown = shown.replace("%", "%%")

    def common(sp: argparse.ArgumentParser) -> None:
        where = sp.add_mutually_exclusive_group()
        where.add_argument(
            "--url",
            default=None,
            help=f"Redis URL, rediss:// for TLS (default: {default_shown}); "
            "a password here shows in ps: use --url-file or $DUETIME_URL",
        )
        where.add_argument(
            "--url-file",
            default=None,
            metavar="PATH",
            help="read the Redis URL from this file (keeps its password off the command line)",
        )
        sp.add_argument("--namespace", default="default", help="task namespace")
        sp.add_argument("--log-level", default="INFO")

    w = sub.add_parser("worker", help="run a worker until SIGTERM")
    common(w)
    w.add_argument("--handlers", required=True, help="MODULE:ATTR, a dict type -> callable")
    w.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    w.add_argument("--lease", type=float, default=DEFAULT_LEASE_S, help="lease seconds")
    w.add_argument("--shutdown-grace", type=float, default=DEFAULT_SHUTDOWN_GRACE_S)
    w.add_argument("--no-cron", action="store_true", help="do not fire recurring schedules")
    w.set_defaults(func=cmd_worker)

    s = sub.add_parser("schedule", help="schedule one task; prints its id")
    common(s)
    s.add_argument("--type", default="default", help="task type")
    s.add_argument("--at", required=True, help="epoch seconds or ISO-8601 with offset")
    s.add_argument("--data", default="null", help="JSON payload")
    s.add_argument("--id", default=None, help="task id (makes retries idempotent)")
    s.add_argument("--max-attempts", type=int, default=None)
    s.set_defaults(func=cmd_schedule)

    st = sub.add_parser("stats", help="print the namespace's counts")
    common(st)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stats)

    c = sub.add_parser("cron", help="fire recurring schedules until SIGTERM (workers do too)")
    common(c)
    c.set_defaults(func=cmd_cron)

    d = sub.add_parser("dead", help="list, retry or purge dead letters")
    common(d)
    d.add_argument("action", choices=["list", "retry", "purge"])
    d.add_argument("task_id", nargs="?", default=None)
    d.add_argument("--limit", type=int, default=100)
    d.set_defaults(func=cmd_dead)
    return p


def main(argv: Sequence[str] | None = None, *, worker_class: type[Worker] = Worker) -> int:
    """Run the CLI. ``worker_class`` lets a program run its own Worker subclass."""
    args = build_parser().parse_args(argv)
    args.worker_class = worker_class
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result: Any = args.func(args)
        return int(result)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (SchedulerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
