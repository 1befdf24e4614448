"""Redis process crash: SIGKILL redis-server, then restart it from the files it left."""

from __future__ import annotations

from dataclasses import dataclass

from duetime.chaos.system.cluster import Cluster

from .base import Fault, Nemesis, NemesisContext
from .single_node import require_single_node


@dataclass(frozen=True)
class KillRedis(Nemesis):
    """SIGKILL (no save, no fsync on the way out); heal restarts from AOF/RDB, if any."""

    @property
    def name(self) -> str:
        return "kill_redis"

    def setup(self, cluster: Cluster) -> None:
        require_single_node(cluster, self.name)

    def inject(self, ctx: NemesisContext) -> Fault | None:
        ctx.live.refresh()
        pending = ctx.live.progress().acked_pending
        ctx.cluster.kill_redis()
        return Fault(
            targets=(),
            detail={"acked_pending_at_kill": pending},
            healer=ctx.cluster.restart_redis,
        )
