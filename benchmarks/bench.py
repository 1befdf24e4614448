"""What every measurement needs: the Redis under test, a scratch folder, the sizes, a voice
(which also shows where the run is: ``progress.BenchProgress``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import redis

from .progress import BenchProgress
from .sizes import Sizes

# Worker commands must take their first task (or say they are ready) within this long.
STARTUP_TIMEOUT_S = 60.0
# How often the harness looks at the records while workers run.
POLL_S = 0.05


@dataclass
class Bench:
    url: str
    client: redis.Redis
    scratch: Path
    sizes: Sizes
    progress: BenchProgress
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def folder(self, name: str) -> Path:
        """A new folder for one measurement's records and logs."""
        path = self.scratch / f"{next(self._ids):03d}-{name}"
        path.mkdir(parents=True)
        return path

    def say(self, message: str) -> None:
        self.progress.say(message)
