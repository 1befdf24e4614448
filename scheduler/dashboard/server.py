"""The dashboard's web app (Flask), and the server that runs it."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, redirect, render_template, request, url_for
from werkzeug.serving import make_server

from ..client import Scheduler
from ..errors import SchedulerError
from ..presence import workers_alive
from ..task import Stats, TaskInfo
from .lateness import Lateness, lateness
from .trend import STATES, Trend, sample_forever, sparkline

log = logging.getLogger("duetime.dashboard")

SAMPLE_EVERY_S = 10.0
DEAD_SHOWN = 50


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    timezone: str
    misfire: str
    task_type: str
    next_slot: str


@dataclass(frozen=True)
class NamespaceView:
    """What the page shows of one namespace."""

    name: str
    stats: Stats | None
    error: str | None
    trends: dict[str, str]
    lateness: Lateness
    dead: list[TaskInfo]
    schedules: list[Schedule]
    workers: list[tuple[str, float]]


def _iso(epoch_s: float | None) -> str:
    if epoch_s is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch_s, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def create_app(
    schedulers: dict[str, Scheduler],
    *,
    token: str | None,
    metrics_urls: list[str],
    trends: dict[str, Trend],
) -> Flask:
    """The Flask app. Write actions need the page's form secret (against cross-site
    posts) and, when ``token`` is set, the token."""
    app = Flask(__name__)
    form_secret = secrets.token_urlsafe(24)

    def view(ns: str, sched: Scheduler) -> NamespaceView:
        now = time.time()
        try:
            stats = sched.stats()
            trends[ns].add(stats, now)
            dead = sched.dead_letters(limit=DEAD_SHOWN)
            schedules = [
                Schedule(
                    name,
                    spec.cron,
                    spec.timezone,
                    spec.misfire,
                    spec.task_type,
                    _iso(next_at),
                )
                for name, (spec, next_at) in sorted(sched.recurring().items())
            ]
            workers = sorted((name, now - seen) for name, seen in workers_alive(sched).items())
            error = None
        except SchedulerError as exc:
            stats, dead, schedules, workers, error = None, [], [], [], str(exc)
        return NamespaceView(
            ns,
            stats,
            error,
            {s: sparkline(trends[ns].series(s)) for s in STATES},
            lateness(metrics_urls, ns) if metrics_urls else Lateness(0, {}, []),
            dead,
            schedules,
            workers,
        )

    def render(template: str) -> str:
        return render_template(
            template,
            namespaces=[view(ns, s) for ns, s in schedulers.items()],
            states=STATES,
            form_secret=form_secret,
            needs_token=token is not None,
            has_metrics=bool(metrics_urls),
            message=request.args.get("message", ""),
            now=_iso(time.time()),
        )

    @app.get("/")
    def index() -> str:
        return render("index.html")

    @app.get("/content")
    def content() -> str:
        return render("content.html")

    @app.post("/dead/<action>")
    def dead(action: str) -> Any:
        form = request.form
        if not hmac.compare_digest(form.get("form_secret", ""), form_secret):
            abort(403, "this form is not from this dashboard: reload the page")
        if token is not None and not hmac.compare_digest(form.get("token", ""), token):
            abort(403, "wrong or missing token")
        sched = schedulers.get(form.get("namespace", ""))
        task_id = form.get("task_id", "")
        if sched is None or action not in ("retry", "purge"):
            abort(404)
        try:
            if action == "retry":
                sched.retry_dead(task_id)
                message = f"{task_id} is due again"
            else:
                purged = sched.purge_dead(task_id)
                message = f"purged {task_id}" if purged else f"{task_id} was not a dead letter"
        except SchedulerError as exc:
            message = f"error: {exc}"
        log.info("dashboard %s %s/%s: %s", action, sched.namespace, task_id, message)
        return redirect(url_for("index", message=message), code=303)

    return app


def run_dashboard(
    schedulers: dict[str, Scheduler],
    *,
    host: str,
    port: int,
    token: str | None,
    metrics_urls: list[str],
) -> None:
    """Serve the dashboard until SIGTERM or Ctrl-C."""
    trends = {ns: Trend() for ns in schedulers}
    app = create_app(schedulers, token=token, metrics_urls=metrics_urls, trends=trends)
    # Bound here, so that a port in use is an OSError the CLI reports in one line
    # (werkzeug would print a paragraph and exit).
    listening = socket.create_server((host, port))
    server = make_server(host, port, app, threaded=True, fd=listening.fileno())
    listening.close()
    stop = threading.Event()

    def read() -> dict[str, Stats]:
        return {ns: s.stats() for ns, s in schedulers.items()}

    sampler = threading.Thread(
        target=sample_forever,
        args=(read, trends, stop, SAMPLE_EVERY_S),
        name="trend-sampler",
        daemon=True,
    )
    sampler.start()

    def shut(*_: object) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, shut)
    log.info("dashboard of %s on http://%s:%d/", ", ".join(schedulers), host, server.port)
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()
