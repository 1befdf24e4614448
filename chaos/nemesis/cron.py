"""Cron-scheduler process faults: SIGKILL one or all of them across slots."""

from __future__ import annotations

from dataclasses import dataclass

from duetime.chaos.system.cluster import CRON_ROLE

from .base import Fault, Nemesis, NemesisContext


@dataclass(frozen=True)
class KillCronSchedulers(Nemesis):
    """SIGKILL ``all`` cron schedulers (an outage) or one (the others must cover)."""

    all: bool = True

    @property
    def name(self) -> str:
        return "kill_all_cron" if self.all else "kill_one_cron"

    def inject(self, ctx: NemesisContext) -> Fault | None:
        alive = [n for n in ctx.cluster.names(CRON_ROLE) if ctx.cluster.alive(n)]
        if not alive:
            return None
        victims = alive if self.all else [ctx.rng.choice(alive)]
        pids = {n: ctx.cluster.kill_process(n) for n in victims}

        def restart() -> None:
            for n in victims:
                ctx.cluster.start_process(n)

        return Fault(targets=tuple(victims), detail={"pids": pids}, healer=restart)
