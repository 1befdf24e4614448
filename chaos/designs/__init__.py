"""Designs the testbed can run: the reference scheduler and published designs users copy.

``--strategy NAME`` picks one. Every design runs under the same workload, faults,
history and checkers, so the matrix compares what each guarantees. A design is a
module that provides:

- ``client(url, namespace) -> DesignClient``: what the producers schedule through;
- ``main(argv)``: its processes, ``python -m MODULE worker ...`` (the worker
  contract of :mod:`duetime.chaos.designs.process`) and, if it has recurring tasks,
  ``python -m MODULE cron ...``.

Only the reference scheduler is held to expectations; the published designs are
measured, not fixed (see each module's docstring for the choices made where its
source is silent).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal

from .contract import DesignClient

Dispatcher = Literal["none", "every", "first"]


@dataclass(frozen=True)
class Design:
    """One design: its name on the command line and where it comes from.

    ``dispatcher`` says which worker processes also run the design's dispatcher
    loop (they get ``--dispatch``): ``every`` worker, only the ``first``, or
    ``none`` (the design has no dispatcher). ``cron`` is False for designs with
    no recurring tasks: their runs start no cron processes. ``judged`` is True
    only for the reference scheduler, whose promises are the expectations.
    ``own_processes`` is False for the reference scheduler, whose workers are the
    scenario's ``worker_module`` and whose cron processes are
    :mod:`duetime.chaos.system.cron_process`.
    """

    name: str
    module: str
    title: str
    source: str
    dispatcher: Dispatcher = "none"
    cron: bool = False
    judged: bool = False
    own_processes: bool = True

    def worker_args(self, index: int) -> tuple[str, ...]:
        """Extra flags of worker process ``index`` (0-based)."""
        runs_dispatcher = self.dispatcher == "every" or (self.dispatcher == "first" and index == 0)
        return ("--dispatch",) if runs_dispatcher else ()


REFERENCE = Design(
    name="reference",
    module="duetime.chaos.designs.reference",
    title="duetime, the reference scheduler",
    source="this repository's scheduler/",
    cron=True,
    judged=True,
    own_processes=False,
)
POLL_REMOVE_RUN = Design(
    name="poll-remove-run",
    module="duetime.chaos.designs.poll_remove_run",
    title="poll, remove, run (a sorted set and a hash per task)",
    source="Clara Jiménez, 'Redis Tasks Scheduler' (blog post, Node.js)",
    cron=True,
)
WATCH_DISPATCHER = Design(
    name="watch-dispatcher",
    module="duetime.chaos.designs.watch_dispatcher",
    title="dispatcher moving one due task per WATCH/MULTI to a list",
    source="Stack Overflow answer: WATCH-based dispatcher, workers BLPOP",
    dispatcher="every",
)
BATCH_DISPATCHER = Design(
    name="batch-dispatcher",
    module="duetime.chaos.designs.batch_dispatcher",
    title="central dispatcher moving all due tasks each round to a list",
    source="Stack Overflow answer: ZRANGEBYSCORE, then RPUSH+ZREM per task in MULTI",
    dispatcher="first",
)
IDEMPOTENCY_KEYS = Design(
    name="idempotency-keys",
    module="duetime.chaos.designs.idempotency_keys",
    title="run, then remove; repeats carry a key from the task id and score",
    source="Schedulinator README (gumberss/Schedulinator)",
)
CLIENT_RETRY = Design(
    name="client-retry",
    module="duetime.chaos.designs.client_retry",
    title="client-side schedulers with push/register and retry after a timeout",
    source="schedule-mq README",
    cron=True,
)

DESIGNS: dict[str, Design] = {
    d.name: d
    for d in (
        REFERENCE,
        POLL_REMOVE_RUN,
        WATCH_DISPATCHER,
        BATCH_DISPATCHER,
        IDEMPOTENCY_KEYS,
        CLIENT_RETRY,
    )
}
ALL = "all"


class UnknownDesign(ValueError):
    """A --strategy value that names no design."""


def parse_strategies(text: str) -> list[Design]:
    """``all``, or a comma-separated list of design names, in the order given."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == [ALL]:
        return list(DESIGNS.values())
    unknown = [n for n in names if n not in DESIGNS]
    if unknown or not names:
        raise UnknownDesign(
            f"--strategy takes {ALL} or names from {', '.join(DESIGNS)}; got {text!r}"
        )
    return [DESIGNS[n] for n in dict.fromkeys(names)]


def open_client(design: Design, url: str, namespace: str) -> DesignClient:
    """A producer-side client of ``design`` on ``url``."""
    client: DesignClient = importlib.import_module(design.module).client(url, namespace)
    return client


__all__ = [
    "ALL",
    "DESIGNS",
    "Design",
    "DesignClient",
    "UnknownDesign",
    "open_client",
    "parse_strategies",
]
