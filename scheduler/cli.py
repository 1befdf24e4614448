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
import re
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, NoReturn, TypeVar, cast

import redis

from . import validation
from .cli_ops import add_dashboard_command, add_metrics_command, add_metrics_flags, serve_metrics
from .client import NewTask, ScheduledObserver, Scheduler
from .errors import (
    InvalidInput,
    InvalidState,
    RedisUnavailable,
    SchedulerError,
    TaskNotFound,
    unreachable,
)
from .keys import MAX_SHARDS
from .lease_events import LeaseObserver
from .metrics import WorkerMetrics
from .plural import counted
from .progress import SHOW_AFTER_S, ProgressLine
from .record import Status
from .redact import mask_url
from .settings import (
    DEFAULT_DURABILITY_TIMEOUT_S,
    DEFAULT_LEASE_S,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_PAYLOAD_BYTES,
    Durability,
)
from .task import TaskInfo
from .worker import DEFAULT_CONCURRENCY, DEFAULT_SHUTDOWN_GRACE_S, Handler, Worker

DEFAULT_URL = "redis://127.0.0.1:6379/0"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

T = TypeVar("T")


DESCRIPTION = """\
Run duetime's workers and cron tickers, schedule tasks, and look into a namespace.

Every command talks to one Redis (--url, --url-file or $DUETIME_URL) and works in
one namespace (--namespace): tasks, recurring schedules and dead letters of
different namespaces never meet."""

EPILOG = """\
examples:
  python -m duetime worker   --namespace shop --handlers myapp.tasks:HANDLERS
  python -m duetime schedule --namespace shop --type send_email --at 2030-01-01T09:00:00+00:00
  python -m duetime stats    --namespace shop
  python -m duetime dead list --namespace shop

A mistake in the flags exits with status 2, any other failure (Redis unreachable,
a permission refused, no such dead letter) with 1; either says why in one line on
stderr. Keep a password out of --url, which every user of the machine can read in
ps: put it in $DUETIME_URL or in a file named by --url-file."""


class UsageError(Exception):
    """A bad flag: reported in one line, exit status 2."""


class Failure(Exception):
    """A command that could not do what was asked: reported in one line, exit status 1."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each flag's default, except where there is none to show; keeps line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


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
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at must be epoch seconds or an ISO-8601 time with an offset, not {text!r}"
        ) from None
    if when.tzinfo is None:
        example = when.replace(tzinfo=dt.timezone.utc).isoformat()
        raise UsageError(f"--at {text!r} has no UTC offset: add one, e.g. {example}")
    return when


DURABILITY_FORMS = "none, wait:N or waitaof:N, optionally followed by ,timeout=SECONDS"


def parse_durability(text: str) -> Durability:
    """``--durability``: ``none``, ``wait:N`` (``WAIT N``) or ``waitaof:N`` (``WAITAOF 1 N``),
    optionally followed by ``,timeout=SECONDS``."""
    kind, _, rest = text.partition(",")
    mode, _, count = kind.partition(":")
    timeout_s = DEFAULT_DURABILITY_TIMEOUT_S
    if rest:
        name, eq, seconds = rest.partition("=")
        if name != "timeout" or not eq:
            raise UsageError(f"expected {DURABILITY_FORMS}, not {text!r}")
        try:
            timeout_s = float(seconds)
        except ValueError:
            raise UsageError(f"timeout must be a number of seconds, not {seconds!r}") from None
    if kind == "none":
        if rest:
            raise UsageError(f"none waits for nothing: it takes no timeout ({text!r})")
        return Durability()
    # At most 4 digits: int() refuses a number of thousands of digits with a ValueError.
    if mode not in ("wait", "waitaof") or not re.fullmatch(r"[0-9]{1,4}", count):
        raise UsageError(f"expected {DURABILITY_FORMS}, not {text!r}")
    if mode == "wait" and int(count) == 0:
        raise UsageError("wait:0 waits for no replica: use none, or wait:1 or more")
    try:
        return Durability(replicas=int(count), fsync=mode == "waitaof", timeout_s=timeout_s)
    except InvalidInput as exc:
        raise UsageError(str(exc)) from None


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


def _scheduler(
    args: argparse.Namespace,
    *,
    wait_for_redis: bool = False,
    on_scheduled: ScheduledObserver | None = None,
) -> Scheduler:
    """Connect, and tell a URL Redis refuses (no such DB, bad password) from one it never got.

    With ``wait_for_redis`` (workers, tickers: they retry on their own) an unreachable
    Redis is not an error here.
    """
    try:
        sched = Scheduler.from_url(
            resolve_url(args),
            namespace=args.namespace,
            allow_eviction=args.allow_eviction,
            on_scheduled=on_scheduled,
            shards=args.shards,
            # Only the commands that schedule tasks have the flag.
            durability=getattr(args, "durability", None),
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
            reason = unreachable(exc)
            if reason == "Connection refused":
                reason = f"Connection refused by {sched.url} (is Redis running there?)"
            raise RedisUnavailable(f"connecting: {reason}") from exc
        return sched
    if args.shards is not None:
        # A count that disagrees with the stored one is a usage error: say so now, not
        # from inside a worker's loop.
        sched.shard_keys()
    return sched


def load_observer(spec: str | None) -> LeaseObserver | None:
    """Import ``MODULE:ATTR``, a callable that gets every lease change (or None)."""
    if spec is None:
        return None
    observer = import_attr("--observer", spec, "myapp.audit:on_lease_change")
    if not callable(observer):
        raise UsageError(f"--observer: {spec} is not callable")
    return cast(LeaseObserver, observer)


def handler_timeout(text: str) -> tuple[str | None, float]:
    """``--handler-timeout``: ``SECONDS`` (every task type) or ``TYPE=SECONDS``."""
    task_type, _, seconds = text.rpartition("=")
    try:
        value = float(seconds)
    except ValueError:
        raise UsageError(f"expected SECONDS or TYPE=SECONDS, not {text!r}") from None
    try:
        if task_type:
            return validation.task_type(task_type), validation.handler_timeout_s(task_type, value)
        return None, validation.handler_timeout_s("the handler timeout", value)
    except InvalidInput as exc:
        raise UsageError(str(exc)) from None


def cmd_worker(args: argparse.Namespace) -> int:
    handlers = load_handlers(args.handlers)
    timeouts = dict(args.handler_timeout or [])
    observer = load_observer(args.observer)
    metrics = None if args.metrics_port is None else WorkerMetrics(args.namespace)
    sched = _scheduler(
        args, wait_for_redis=True, on_scheduled=None if metrics is None else metrics.scheduled
    )
    if metrics is not None:
        handlers = metrics.instrument(handlers)
        observer = metrics.chain(observer)
    worker = args.worker_class(
        sched,
        handlers,
        concurrency=args.concurrency,
        lease_s=args.lease,
        shutdown_grace_s=args.shutdown_grace,
        cron=not args.no_cron,
        observer=observer,
        handler_timeout_s=timeouts.pop(None, None),
        handler_timeouts=timeouts,
    )
    stop_serving = (
        None
        if metrics is None
        else serve_metrics(metrics.registry, args.metrics_port, args.metrics_addr)
    )
    try:
        worker.run()
    finally:
        if stop_serving is not None:
            stop_serving()
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    (result,) = sched.submit([NewTask(args.at, args.data, args.type, args.id, args.max_attempts)])
    print(result.task_id)
    if not result.created:
        print(
            f"note: task {result.task_id!r} already exists in namespace {sched.namespace!r} "
            "(pending, running or dead, or finished at this same time): nothing scheduled",
            file=sys.stderr,
        )
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    sched = _scheduler(args)
    stats = asdict(sched.stats())
    if args.json:
        print(json.dumps(stats))
        return 0
    for k, v in stats.items():
        print(f"{k:>10}  {v}")
    if not any(stats.values()) and not sched.recurring():
        # Most often a mistyped --namespace: an empty one looks just like a quiet one.
        print(
            f"note: no task, schedule or dead letter in namespace {sched.namespace!r} "
            "(is the namespace right?)",
            file=sys.stderr,
        )
    return 0


def cmd_cron(args: argparse.Namespace) -> int:
    sched = _scheduler(args, wait_for_redis=True)
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    beat = args.heartbeat or None
    logging.getLogger("duetime.cron").info(
        "cron ticker started: %s namespace %r%s",
        sched.url,
        sched.namespace,
        f", a heartbeat line every {beat:g}s" if beat else "",
    )
    sched.run_cron(stop, heartbeat_s=beat)
    logging.getLogger("duetime.cron").info("cron ticker stopped")
    return 0


def _heartbeat(seconds: float) -> None:
    if seconds != 0:
        validation.seconds("--heartbeat", seconds, 1.0, 86400.0)


def _dead_letter_line(info: TaskInfo) -> str:
    return json.dumps(
        {
            "task_id": info.task_id,
            "task_type": info.task_type,
            "attempts": info.attempts,
            "last_error": info.last_error,
        }
    )


def cmd_dead(args: argparse.Namespace) -> int:
    if args.action == "retry" and not args.task_id:
        raise UsageError("dead retry needs a task id")
    sched = _scheduler(args)
    tid = args.task_id
    not_dead = Failure(
        f"no dead letter {tid!r} in namespace {sched.namespace!r} (dead list shows them)"
    )
    if args.action == "list":
        if tid is None:
            for info in sched.dead_letters(limit=args.limit):
                print(_dead_letter_line(info))
            return 0
        one = sched.get(tid)
        if one is None or one.status is not Status.DEAD:
            raise not_dead
        print(_dead_letter_line(one))
    elif args.action == "retry":
        try:
            sched.retry_dead(tid)
        except (TaskNotFound, InvalidState):
            raise not_dead from None
        print(f"requeued dead letter {tid!r}: due now, with a fresh set of attempts")
    elif tid is not None:
        if not sched.purge_dead(tid):
            raise not_dead
        print(f"purged dead letter {tid!r}")
    else:
        shown = ProgressLine(
            "dead purge", "dead letters deleted", sys.stderr, after_s=args.progress_after
        )
        try:
            purged = sched.purge_dead(progress=shown.update)
        finally:
            shown.close()
        print(f"purged {counted(purged, 'dead letter')}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m duetime",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    env_url = os.environ.get("DUETIME_URL")
    # argparse %-formats help text; a percent-encoded URL must not break it.
    shown = (
        f"$DUETIME_URL, which is {mask_url(env_url)}"
        if env_url
        else f"$DUETIME_URL if set (it is not), else {DEFAULT_URL}"
    )
    default_shown = shown.replace("%", "%%")

    def command(
        name: str, summary: str, description: str, epilog: str, *, many_namespaces: bool = False
    ) -> argparse.ArgumentParser:
        sp = sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=epilog,
            formatter_class=_HelpFormatter,
        )
        where = sp.add_mutually_exclusive_group()
        where.add_argument(
            "--url",
            default=None,
            help=f"Redis URL, rediss:// for TLS (default: {default_shown}); a Cluster "
            "node's URL works too, and redis+sentinel://HOST:PORT,HOST:PORT/SERVICE "
            "names a Sentinel group (README: Scaling out); "
            "a password here shows in ps: use --url-file or $DUETIME_URL",
        )
        where.add_argument(
            "--url-file",
            default=None,
            metavar="PATH",
            help="read the Redis URL from the first line of this file "
            "(keeps its password off the command line)",
        )
        if many_namespaces:
            sp.add_argument(
                "--namespace",
                type=_flag(str, validation.namespace),
                action="append",
                default=None,
                help="a namespace to show; repeat for more (default: every namespace "
                "found in Redis, which needs +scan)",
            )
        else:
            sp.add_argument(
                "--namespace",
                type=_flag(str, validation.namespace),
                default="default",
                help="the namespace to work in; producers and workers must name the same one",
            )
        sp.add_argument(
            "--shards",
            type=_flag(int, lambda n: validation.count("--shards", n, 1, MAX_SHARDS)),
            default=None,
            metavar="N",
            help="spread the namespace over N Cluster hash tags (README: Scaling out); "
            "default: the count stored for the namespace, 1 when none is. Every process "
            "of a namespace must give the same N",
        )
        sp.add_argument(
            "--log-level",
            type=str.upper,
            choices=LOG_LEVELS,
            default="INFO",
            help="the least important log lines to print (on stderr)",
        )
        sp.add_argument(
            "--allow-eviction",
            action="store_true",
            help="run even though Redis's maxmemory-policy may delete task records "
            "(allkeys-*): tasks can be lost",
        )
        return sp

    w = command(
        "worker",
        "run a worker until SIGTERM or Ctrl-C",
        "Run the handlers of due tasks until SIGTERM or Ctrl-C, then let running\n"
        "handlers finish (up to --shutdown-grace) and hand back the rest.\n"
        "A failing handler is retried with backoff; a task out of attempts, or of a\n"
        "type no handler knows, becomes a dead letter. Workers also fire recurring\n"
        "schedules unless --no-cron. If Redis cannot be reached the worker waits for it.",
        "example:\n  python -m duetime worker --namespace shop "
        "--handlers myapp.tasks:HANDLERS --concurrency 8",
    )
    w.add_argument(
        "--handlers",
        required=True,
        metavar="MODULE:ATTR",
        help="a dict of task type -> callable, e.g. myapp.tasks:HANDLERS",
    )
    w.add_argument(
        "--concurrency",
        type=_flag(int, validation.concurrency),
        default=DEFAULT_CONCURRENCY,
        help="handler threads, 1 to 1024: at most this many tasks run at once",
    )
    w.add_argument(
        "--lease",
        type=_flag(float, validation.lease_s),
        default=DEFAULT_LEASE_S,
        metavar="SECONDS",
        help="how long a task stays claimed if this worker dies (renewed while it runs)",
    )
    w.add_argument(
        "--shutdown-grace",
        type=_flag(float, validation.shutdown_grace_s),
        default=DEFAULT_SHUTDOWN_GRACE_S,
        metavar="SECONDS",
        help="on SIGTERM, how long running handlers may take before they are handed back",
    )
    w.add_argument(
        "--handler-timeout",
        type=_flag(handler_timeout, lambda _: None),
        action="append",
        default=None,
        metavar="[TYPE=]SECONDS",
        help="fail a run whose handler takes longer (it is retried with backoff); "
        "TYPE=SECONDS for one task type, repeatable (default: no timeout)",
    )
    w.add_argument("--no-cron", action="store_true", help="do not fire recurring schedules")
    w.add_argument(
        "--observer",
        default=None,
        metavar="MODULE:ATTR",
        help="a callable given every lease change (claim, renew, ack, fail, release) and "
        "whether Redis accepted it: for audits and test harnesses (default: none)",
    )
    add_metrics_flags(w)
    w.set_defaults(func=cmd_worker)

    s = command(
        "schedule",
        "schedule one task; prints its id",
        "Schedule one task and print its id on stdout.",
        "example:\n  python -m duetime schedule --namespace shop --type send_email "
        "--at 2030-01-01T09:00:00+00:00 --data '{\"user\": 42}'",
    )
    s.add_argument(
        "--type",
        type=_flag(str, validation.task_type),
        required=True,
        help="the task type: which handler of the workers runs it",
    )
    s.add_argument(
        "--at",
        type=_flag(parse_when, validation.due_ms),
        required=True,
        metavar="WHEN",
        help="epoch seconds, or ISO-8601 with a UTC offset (2030-01-01T09:00:00+00:00); "
        "a time in the past means now",
    )
    s.add_argument(
        "--data",
        type=_flag(parse_data, lambda data: validation.payload(data, DEFAULT_MAX_PAYLOAD_BYTES)),
        default="null",
        metavar="JSON",
        help="the task's payload, as JSON",
    )
    s.add_argument(
        "--id",
        type=_flag(str, validation.producer_task_id),
        default=None,
        help="an id of your choosing (default: a random one); scheduling again with the "
        "same id and --at creates nothing, so a retry is safe",
    )
    s.add_argument(
        "--max-attempts",
        type=_flag(int, validation.max_attempts),
        default=None,
        metavar="N",
        help=f"runs before the task becomes a dead letter, 1 to 1000 "
        f"(default: {DEFAULT_MAX_ATTEMPTS})",
    )
    s.add_argument(
        "--durability",
        type=_flag(parse_durability, lambda _: None),
        default="none",
        metavar="MODE",
        help="when the task counts as scheduled: none (once the primary has it), wait:N "
        "(once N replicas have it too: WAIT), waitaof:N (once the primary's AOF on disk "
        "and N replicas' AOFs have it: WAITAOF, Redis 7.2+ or Valkey with appendonly yes); "
        f"add ,timeout=SECONDS (default {DEFAULT_DURABILITY_TIMEOUT_S:g}) to fail (exit 1, "
        "the task id in the message: retrying with --id is safe) when not confirmed in time",
    )
    s.set_defaults(func=cmd_schedule)

    st = command(
        "stats",
        "print the namespace's counts",
        "Print how many tasks of the namespace are scheduled, due, running, waiting\n"
        "for a retry, dead, and finished (kept for a while after they finish).",
        "example:\n  python -m duetime stats --namespace shop --json",
    )
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.set_defaults(func=cmd_stats)

    c = command(
        "cron",
        "fire recurring schedules until SIGTERM (workers do too)",
        "Fire the slots of the namespace's recurring schedules until SIGTERM or Ctrl-C.\n"
        "Workers do this too (unless --no-cron); any number of processes may, and each\n"
        "slot still fires once.",
        "example:\n  python -m duetime cron --namespace shop",
    )
    c.add_argument(
        "--heartbeat",
        type=_flag(float, _heartbeat),
        default=60.0,
        metavar="SECONDS",
        help="log a line this often (1 to 86400; 0: never): schedules, slots fired, next slot",
    )
    c.set_defaults(func=cmd_cron)

    d = command(
        "dead",
        "list, retry or purge dead letters",
        "Dead letters are tasks that ran out of attempts, or whose type no worker\n"
        "handles. They are kept for a week, then expire.\n\n"
        "  dead list [ID]    print them as JSON lines, oldest first (ID: only that one)\n"
        "  dead retry ID     run it again, now, with a fresh set of attempts\n"
        "  dead purge [ID]   delete it, or (without ID) every dead letter\n\n"
        "An ID that is not a dead letter is an error (exit status 1).",
        "example:\n  python -m duetime dead retry 3fA9x-Qm2LkT0bZc --namespace shop",
    )
    d.add_argument("action", choices=["list", "retry", "purge"], help="what to do")
    d.add_argument(
        "task_id",
        type=_flag(str, validation.task_id),
        nargs="?",
        default=None,
        metavar="ID",
        help="a dead letter's task id",
    )
    d.add_argument(
        "--limit",
        type=_flag(int, lambda n: validation.count("--limit", n, 0, validation.MAX_PAGE)),
        default=100,
        metavar="N",
        help="dead list: show at most this many",
    )
    d.add_argument(
        "--progress-after",
        type=_flag(float, lambda v: validation.seconds("--progress-after", v, 0.0, 86400.0)),
        default=SHOW_AFTER_S,
        metavar="SECONDS",
        help="dead purge: once it has run this long, show a running count on stderr "
        "(a line rewritten in place on a terminal, a line every 5 s in a pipe)",
    )
    d.set_defaults(func=cmd_dead)

    add_metrics_command(command, _scheduler)
    add_dashboard_command(command, _scheduler)
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
    except (Failure, SchedulerError, redis.RedisError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
