"""Nemeses: one module per kind of fault, each able to heal what it did."""

from __future__ import annotations

from .base import Fault, FaultSchedule, Nemesis, NemesisContext, NemesisUnavailable
from .clock import ClockSkew
from .cron import KillCronSchedulers
from .memory import FillMemory
from .network_toxic import NetworkToxic
from .partition import Partition
from .partition_primary import PartitionPrimary
from .poison import PoisonRecords
from .power_loss import PowerLoss
from .redis_process import KillRedis
from .replication import FailoverPowerLoss, KillPrimary, LagReplica
from .slow_disk import SlowDisk
from .workers import KillWorker, PauseWorker

__all__ = [
    "ClockSkew",
    "FailoverPowerLoss",
    "Fault",
    "FaultSchedule",
    "FillMemory",
    "KillCronSchedulers",
    "KillPrimary",
    "KillRedis",
    "KillWorker",
    "LagReplica",
    "Nemesis",
    "NemesisContext",
    "NemesisUnavailable",
    "NetworkToxic",
    "Partition",
    "PartitionPrimary",
    "PauseWorker",
    "PoisonRecords",
    "PowerLoss",
    "SlowDisk",
]
