"""The power-loss filesystem as the disk nemeses see it, and the strike they share."""

from __future__ import annotations

from typing import Any

from duetime.chaos.system.backends import PowerDisk, PowerDiskUnavailable, Unsupported
from duetime.chaos.system.cluster import Cluster
from duetime.chaos.system.powerfs import DropReport

from .base import NemesisContext, NemesisUnavailable


def attach_disk(cluster: Cluster, nemesis: str) -> PowerDisk:
    """Put Redis's files on the power-loss filesystem, or say why this nemesis cannot run."""
    try:
        return cluster.attach_power_disk()
    except (PowerDiskUnavailable, Unsupported) as exc:
        raise NemesisUnavailable(f"{nemesis} needs the FUSE power-loss filesystem: {exc}") from exc


def disk_of(cluster: Cluster) -> PowerDisk:
    if cluster.disk is None:
        raise RuntimeError("the power-loss filesystem is not attached: call before_start() first")
    return cluster.disk


def drop_detail(report: DropReport) -> dict[str, Any]:
    """What a power loss threw away, for the fault's detail in the history."""
    return {
        "dropped_bytes": report.pending_bytes,
        "aof_dropped_bytes": sum(f.pending_bytes for f in report.files if ".aof" in f.path),
        "dropped_files": {f.path: f.pending_bytes for f in report.files if f.pending_bytes},
    }


def cut_power(ctx: NemesisContext) -> dict[str, Any]:
    """SIGKILL redis-server and drop its un-fsynced writes; the detail of the strike."""
    struck, report = ctx.cluster.power_loss()
    return {"struck_at": struck, **drop_detail(report)}


def kill_process(ctx: NemesisContext) -> dict[str, Any]:
    """SIGKILL redis-server (the machine survives: its files keep every write(2))."""
    struck = ctx.cluster.clock.now()
    ctx.cluster.kill_redis()
    return {"struck_at": struck}
