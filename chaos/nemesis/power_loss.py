"""Power loss of Redis's machine: SIGKILL, lose every un-fsynced write, restart on what is left.

Redis keeps its files on the FUSE power-loss filesystem (``duetime.chaos.system.powerfs``),
attached before it starts. A strike SIGKILLs redis-server, drops every change
its files had not fsynced, then reaps it; the heal starts Redis again on what
survived. Where FUSE is not available the nemesis is unavailable, saying why,
and a scenario of nothing else is skipped: never faked.
"""

from __future__ import annotations

from dataclasses import dataclass

from duetime.chaos.system.cluster import Cluster

from .base import Fault, Nemesis, NemesisContext
from .disk import attach_disk, cut_power, disk_of
from .single_node import require_single_node


@dataclass(frozen=True)
class PowerLoss(Nemesis):
    """Cut the power under Redis; heal by starting it again on what its files kept.

    ``fsync_delay_s`` makes every fsync that slow for the whole run (a slow disk).
    """

    fsync_delay_s: float = 0.0

    def __post_init__(self) -> None:
        if self.fsync_delay_s < 0:
            raise ValueError(f"fsync_delay_s must be >= 0, not {self.fsync_delay_s}")

    @property
    def name(self) -> str:
        return "power_loss"

    def before_start(self, cluster: Cluster) -> None:
        require_single_node(cluster, self.name)
        disk = attach_disk(cluster, self.name)
        if self.fsync_delay_s:
            disk.fs.set_fsync_delay(self.fsync_delay_s)

    def inject(self, ctx: NemesisContext) -> Fault | None:
        disk_of(ctx.cluster)
        ctx.live.refresh()
        pending = ctx.live.progress().acked_pending
        detail = {"acked_pending_at_fault": pending, **cut_power(ctx)}
        return Fault(targets=(), detail=detail, healer=ctx.cluster.restart_redis)
