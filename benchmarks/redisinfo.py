"""What Redis itself says: commands served, CPU spent, memory used."""

from __future__ import annotations

from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Snapshot:
    """Counters read at one moment."""

    calls: int  # every command, scripts counted once
    scripts: int  # EVAL/EVALSHA/FCALL calls
    cpu_s: float  # redis-server's user + system CPU

    def minus(self, earlier: Snapshot) -> Snapshot:
        return Snapshot(
            self.calls - earlier.calls, self.scripts - earlier.scripts, self.cpu_s - earlier.cpu_s
        )


SCRIPT_COMMANDS = ("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro")
# Commands that read these counters (this module's own) are not counted.
OWN_COMMANDS = ("info",)


def snapshot(client: redis.Redis) -> Snapshot:
    """Commands served and CPU used by redis-server so far."""
    stats = client.info("commandstats")
    cpu = client.info("cpu")
    calls = scripts = 0
    for key, value in stats.items():
        name = key.removeprefix("cmdstat_")
        n = int(value["calls"])
        if name in OWN_COMMANDS:
            continue
        calls += n
        if name in SCRIPT_COMMANDS:
            scripts += n
    return Snapshot(calls, scripts, float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]))


def used_memory(client: redis.Redis) -> int:
    """Bytes redis-server has allocated (``INFO memory`` ``used_memory``)."""
    return int(client.info("memory")["used_memory"])


def flush(client: redis.Redis) -> None:
    """Empty every database and forget freed memory, between measurements."""
    client.flushall()
    client.memory_purge()
