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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, NoReturn, TypeVar, cast

import redis

from . import validation
from .client import Scheduler
from .errors import InvalidInput, RedisUnavailable, SchedulerError
from .lease_events import LeaseObserver
from .redact import mask_url
from .settings import DEFAULT_LEASE_S, DEFAULT_MAX_PAYLOAD_BYTES
from .worker import DEFAULT_CONCURRENCY, DEFAULT_SHUTDOWN_GRACE_S, Handler, Worker

DEFAULT_URL = "redis://127.0.0.1:6379/0"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

T = TypeVar("T")


class UsageError(Exception):
    """A bad flag: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (it prints the whole usage too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _flag(convert: Callable[[str], T], check: Callable[[T], object]) -> Callable[[str], T]:
    """An argparse ``type``: convert the text, then run the library's own check on it."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {getattr(convert, '__name__', 'a value')}, not {text!r}"
            ) from None
        try:
            check(value)
        except InvalidInput as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    # argparse names the type in some messages.
    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def import_attr(flag: str, spec: str, example: str) -> Any:
    """Import ``MODULE:ATTR`` named by ``flag`` (from the current folder too)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{flag} must look like MODULE:ATTR (e.g. {example}), not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"{flag}: cannot import {module_name!r}: {exc}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UsageError(f"{flag}: module {module_name!r} has no attribute {attr!r}") from None


def load_handlers(spec: str) -> Mapping[str, Handler]:
    """Import ``MODULE:ATTR``, a dict of task type -> callable."""
    handlers = import_attr("--handlers", spec, "myapp.tasks:HANDLERS")
    if not isinstance(handlers, Mapping) or not handlers:
        raise UsageError(f"--handlers: {spec} must be a non-empty dict of task type -> callable")
    return handlers


def parse_data(text: str) -> Any:
    """The ``--data`` JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise UsageError(
            f"--data is nested more than {validation.MAX_NESTING} levels deep"
        ) from None
    except ValueError as exc:  # JSONDecodeError, or an int of over 4300 digits
        raise UsageError(f"--data must be JSON: {exc}") from None


def parse_when(text: str) -> int | float | dt.datetime:
    """Epoch seconds, or an ISO-8601 time with a UTC offset."""
    # An int stays exact: float() turns a 400-digit number into inf.
    for number in (int, float):
        try:
            return number(text)
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


def _scheduler(args: argparse.Namespace, *, wait_for_redis: bool = False) -> Scheduler:
    """Connect, and tell a URL Redis refuses (no such DB, bad password) from one it never got.

    With ``wait_for_redis`` (workers, tickers: they retry on their own) an unreachable
    Redis is not an error here.
    """
    try:
        sched = Scheduler.from_url(
            resolve_url(args), namespace=args.namespace, allow_eviction=args.allow_eviction
        )
    except ValueError as exc:
        raise UsageError(f"--url: {exc}") from None
    try:
        sched.redis.ping()
    except (redis.ResponseError, redis.AuthenticationError) as exc:
        # Not echoing the URL: it may carry a password.
        raise UsageError(f"--url: Redis refused the connection: {exc}") from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        if not wait_for_redis:
            raise RedisUnavailable(f"connecting: Redis did not answer ({exc})") from exc
    return sched


def load_observer(spec: str | None) -> LeaseObserver | None:
    """Import ``MODULE:ATTR``, a callable that gets every lease change (or None)."""
    if spec is None:
        return None
    observer = import_attr("--observer", spec, "myapp.audit:on_lease_change")
    if not callable(observer):
        raise UsageError(f"--observer: {spec} is not callable")
    return cast(LeaseObserver, observer)


def cmd_worker(args: argparse.Namespace) -> int:
    handlers = load_handlers(args.handlers)
    worker = args.worker_class(
        _scheduler(args, wait_for_redis=True),
        handlers,
        concurrency=args.concurrency,
        lease_s=args.lease,
        shutdown_grace_s=args.shutdown_grace,
        cron=not args.no_cron,
        observer=load_observer(args.observer),
    )
    worker.run()
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    tid = _scheduler(args).schedule_task(
        args.at,
        args.data,
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
    sched = _scheduler(args, wait_for_redis=True)
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
    p = _Parser(prog="python -m duetime", description=__doc__)
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
        sp.add_argument(
            "--namespace",
            type=_flag(str, validation.namespace),
            default="default",
            help="task namespace",
        )
        sp.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS, default="INFO")
        sp.add_argument(
            "--allow-eviction",
            action="store_true",
            help="run even though Redis's maxmemory-policy may delete task records "
            "(allkeys-*): tasks can be lost",
        )

    w = sub.add_parser("worker", help="run a worker until SIGTERM")
    common(w)
    w.add_argument("--handlers", required=True, help="MODULE:ATTR, a dict type -> callable")
    w.add_argument(
        "--concurrency", type=_flag(int, validation.concurrency), default=DEFAULT_CONCURRENCY
    )
    w.add_argument(
        "--lease", type=_flag(float, validation.lease_s), default=DEFAULT_LEASE_S, help="seconds"
    )
    w.add_argument(
        "--shutdown-grace",
        type=_flag(float, validation.shutdown_grace_s),
        default=DEFAULT_SHUTDOWN_GRACE_S,
    )
    w.add_argument("--no-cron", action="store_true", help="do not fire recurring schedules")
    w.add_argument(
        "--observer",
        default=None,
        metavar="MODULE:ATTR",
        help="a callable given every lease change (claim, renew, ack, fail, release) and "
        "whether Redis accepted it: for audits and test harnesses (default: none)",
    )
    w.set_defaults(func=cmd_worker)

    s = sub.add_parser("schedule", help="schedule one task; prints its id")
    common(s)
    s.add_argument("--type", type=_flag(str, validation.task_type), default="default")
    s.add_argument(
        "--at",
        type=_flag(parse_when, validation.due_ms),
        required=True,
        help="epoch seconds or ISO-8601 with offset",
    )
    s.add_argument(
        "--data",
        type=_flag(parse_data, lambda data: validation.payload(data, DEFAULT_MAX_PAYLOAD_BYTES)),
        default="null",
        help="JSON payload",
    )
    s.add_argument(
        "--id",
        type=_flag(str, validation.producer_task_id),
        default=None,
        help="task id (makes retries idempotent)",
    )
    s.add_argument("--max-attempts", type=_flag(int, validation.max_attempts), default=None)
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
    d.add_argument("task_id", type=_flag(str, validation.task_id), nargs="?", default=None)
    d.add_argument(
        "--limit",
        type=_flag(int, lambda n: validation.count("--limit", n, 0, validation.MAX_PAGE)),
        default=100,
    )
    d.set_defaults(func=cmd_dead)
    return p


def main(argv: Sequence[str] | None = None, *, worker_class: type[Worker] = Worker) -> int:
    """Run the CLI. ``worker_class`` lets a program run its own Worker subclass."""
    args = build_parser().parse_args(argv)
    args.worker_class = worker_class
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result: Any = args.func(args)
        return int(result)
    except (UsageError, InvalidInput) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (SchedulerError, redis.RedisError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
