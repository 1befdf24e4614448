"""Designs the testbed can run: the reference scheduler and published designs users copy.

``--strategy NAME`` picks one. Every design runs under the same workload, faults,
history and checkers, so the matrix compares what each guarantees. A design is a
module that provides:

- ``client(url, namespace) -> DesignClient``: what the producers schedule through;
- ``main(argv)``: its processes, ``python -m MODULE worker ...`` (the worker
  contract of :mod:`duetime.chaos.designs.process`) and, if it has recurring tasks,
  ``python -m MODULE cron ...``.

Every design's processes and producers get the run's URL: one redis-server's, or on
``topology=replicated`` a ``redis+sentinel://`` URL, which each design turns into the
client its users would make (:mod:`duetime.chaos.designs.redis_client`). Published
designs do not run on a Cluster, nor with ``durability`` other than ``none``
(``duetime.chaos.cli.design_not_applicable`` says why).

Only the reference scheduler is held to expectations; the published designs are
measured, not fixed (see each module's docstring for the choices made where its
source is silent).
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Literal

from .contract import DesignClient

Dispatcher = Literal["none", "every", "first", "process"]
Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Design:
    """One design: its name on the command line and where it comes from.

    ``dispatcher`` says where the design's dispatcher loop runs: in ``every``
    worker process or only the ``first`` (they get ``--dispatch``), in a
    ``process`` of its own (``python -m MODULE dispatcher ...``, the cluster's
    ``dispatcher-0``), or ``none`` (the design has no dispatcher). The clock-skew
    fault shifts the process that decides due times: the dispatcher process when
    there is one, else a worker. ``cron`` is False for designs with
    no recurring tasks: their runs start no cron processes. ``judged`` is True
    only for the reference scheduler, whose promises are the expectations.
    ``own_processes`` is False for the reference scheduler, whose workers are the
    scenario's ``worker_module`` and whose cron processes are
    :mod:`duetime.chaos.system.cron_process`.

    ``params`` are the design's own parameters (name, value) where they differ from
    its module's defaults: each process gets them as ``--param NAME=VALUE`` and the
    producers' client as keywords. A variant (``variant_of`` names its design) runs
    the same module at other parameters, e.g. the source's own values.
    """

    name: str
    module: str
    title: str
    source: str
    dispatcher: Dispatcher = "none"
    cron: bool = False
    judged: bool = False
    own_processes: bool = True
    params: Params = ()
    variant_of: str | None = None

    def param_args(self) -> tuple[str, ...]:
        """``--param NAME=VALUE`` for each of ``params``: every process of the design gets them."""
        return tuple(a for name, value in self.params for a in ("--param", f"{name}={value}"))

    def worker_args(self, index: int) -> tuple[str, ...]:
        """Extra flags of worker process ``index`` (0-based)."""
        runs_dispatcher = self.dispatcher == "every" or (self.dispatcher == "first" and index == 0)
        return (("--dispatch",) if runs_dispatcher else ()) + self.param_args()

    def variant(self, suffix: str, title: str, **params: str) -> Design:
        """This design under other ``params``, named ``{name}@{suffix}``."""
        return dataclasses.replace(
            self,
            name=f"{self.name}@{suffix}",
            title=title,
            params=tuple(params.items()),
            variant_of=self.name,
        )


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
    dispatcher="process",
)
IDEMPOTENCY_KEYS = Design(
    name="idempotency-keys",
    module="duetime.chaos.designs.idempotency_keys",
    title="claim by negating the score (Lua, Redis TIME), remove after a successful run",
    source="Schedulinator README and code (gumberss/Schedulinator)",
)
CLIENT_RETRY = Design(
    name="client-retry",
    module="duetime.chaos.designs.client_retry",
    title="client-side schedulers with push/register and retry after a timeout",
    source="schedule-mq README and code",
    cron=True,
)
PRIORITY_SCORE = Design(
    name="priority-score",
    module="duetime.chaos.designs.priority_score",
    title="one sorted set scored by due time and priority; producers add, consumers pop",
    source="Nik L., 'Mastering Dynamic Task Scheduling with Redis' (DEV Community)",
)

DESIGNS: dict[str, Design] = {
    d.name: d
    for d in (
        REFERENCE,
        POLL_REMOVE_RUN,
        # The blog's own intervals (seeds/000 lines 104-105): 500 ms after a task, 10 s idle.
        POLL_REMOVE_RUN.variant(
            "source",
            "poll-remove-run at the blog's intervals (500 ms / 10 s)",
            timeout_s="0.5",
            timeout_when_empty_s="10",
        ),
        WATCH_DISPATCHER,
        BATCH_DISPATCHER,
        IDEMPOTENCY_KEYS,
        CLIENT_RETRY,
        # The README's retryTimeout: 5000 for push (seeds/004 line 116), 10000 for register
        # (seeds/004 line 101).
        CLIENT_RETRY.variant(
            "source",
            "client-retry at the README's retryTimeout (push 5 s, register 10 s)",
            retry_timeout_s="5",
            cron_retry_timeout_s="10",
        ),
        PRIORITY_SCORE,
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
    module = importlib.import_module(design.module)
    client: DesignClient = module.client(url, namespace, **dict(design.params))
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
