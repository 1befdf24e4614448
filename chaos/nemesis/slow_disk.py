"""A slow disk under Redis, then (optionally) a crash while it is slow.

Every fsync of Redis's files takes ``fsync_delay_s`` (the power-loss filesystem
sleeps before making data durable). ``then="kill"`` SIGKILLs redis-server while
the disk is slow (the machine survives); ``then="power_loss"`` cuts the power
instead; ``then="none"`` only slows the disk for the hold time. Under
``appendfsync everysec`` the strike waits for the moment Redis postpones its AOF
writes while replying (:mod:`duetime.chaos.nemesis.aof_lag`); under the other settings,
which never postpone, it comes after ``fsync_delay_s`` of slow disk. Heal:
fsync fast again, and Redis started again if it was struck.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from duetime.chaos.system.cluster import Cluster

from .aof_lag import Aim, wait_for_postponed_writes
from .base import Fault, Nemesis, NemesisContext
from .disk import attach_disk, cut_power, disk_of, kill_process
from .single_node import require_single_node

Then = Literal["none", "kill", "power_loss"]
THENS = ("none", "kill", "power_loss")
# A new AOF fsync this old (seconds): Redis is postponing writes again.
AIM_S = (0.3, 0.7)


@dataclass(frozen=True)
class SlowDisk(Nemesis):
    """Slow every fsync to ``fsync_delay_s``, then strike as ``then`` says (see module)."""

    fsync_delay_s: float = 3.0
    then: Then = "kill"
    aim_s: tuple[float, float] = AIM_S
    aim_timeout_s: float = 15.0

    def __post_init__(self) -> None:
        if self.fsync_delay_s <= 0:
            raise ValueError(f"fsync_delay_s must be > 0, not {self.fsync_delay_s}")
        if self.then not in THENS:
            raise ValueError(f"then must be one of {', '.join(THENS)}, not {self.then!r}")

    @property
    def name(self) -> str:
        return "slow_disk" if self.then == "none" else f"slow_disk_{self.then}"

    def before_start(self, cluster: Cluster) -> None:
        require_single_node(cluster, self.name)
        attach_disk(cluster, self.name)

    def inject(self, ctx: NemesisContext) -> Fault | None:
        fs = disk_of(ctx.cluster).fs
        began = ctx.cluster.clock.now()
        fs.set_fsync_delay(self.fsync_delay_s)
        detail: dict[str, Any] = {"began_at": began, "fsync_delay_s": self.fsync_delay_s}

        def fast_again() -> None:
            fs.set_fsync_delay(0.0)

        if self.then == "none":
            return Fault(targets=(), detail={**detail, "struck_at": None}, healer=fast_again)
        aim = self._aim(ctx)
        if ctx.stop.is_set():  # the load ended while aiming: heal without striking
            return Fault(
                targets=(), detail={**detail, "struck_at": None, "aim": aim.note}, healer=fast_again
            )
        ctx.live.refresh()
        detail["acked_pending_at_fault"] = ctx.live.progress().acked_pending
        strike = cut_power(ctx) if self.then == "power_loss" else kill_process(ctx)
        detail.update(aimed=aim.aimed, aim=aim.note, **aim.observed, **strike)

        def heal() -> None:
            fast_again()
            ctx.cluster.restart_redis()

        return Fault(targets=(), detail=detail, healer=heal)

    def _aim(self, ctx: NemesisContext) -> Aim:
        mode = ctx.cluster.persistence.aof
        if mode == "everysec":
            return wait_for_postponed_writes(
                ctx.cluster.client_url,
                disk_of(ctx.cluster).fs,
                aim_s=self.aim_s,
                timeout_s=self.aim_timeout_s,
                stop=ctx.stop,
            )
        slow_for = self.fsync_delay_s
        ctx.stop.wait(slow_for)
        return Aim(
            False,
            f"appendfsync {mode} never postpones AOF writes: struck after {slow_for:g} s "
            "of slow disk",
        )
