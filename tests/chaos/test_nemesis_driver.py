"""The nemesis driver records what a fault's heal found in its ``fault-end`` op."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.ops import FAULT_END, read_history
from duetime.chaos.history.sink import EventSink
from duetime.chaos.nemesis import Fault, FaultSchedule, Nemesis, NemesisContext
from duetime.chaos.nemesis.driver import NemesisDriver
from duetime.chaos.report.live import LiveView
from duetime.chaos.system.cluster import Cluster

ONCE_AT_ONCE = FaultSchedule(first_s=0.0, every_s=100.0, jitter_s=0.0, hold_s=(0.0, 0.0))


@dataclass(frozen=True)
class Reporting(Nemesis):
    """A fault whose heal reports ``found`` (None: nothing, as most nemeses)."""

    found: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return "reporting" if self.found else "silent"

    def inject(self, ctx: NemesisContext) -> Fault | None:
        return Fault(targets=(), detail={}, healer=lambda: self.found)


def test_fault_end_carries_what_the_heal_found_and_nothing_else(tmp_path: Path) -> None:
    clock = TestbedClock.anchored_now()
    sink = EventSink(tmp_path / "nemesis.jsonl", "nemesis", clock)
    context = NemesisContext(
        cast(Cluster, None), LiveView(tmp_path), random.Random(1), threading.Event()
    )
    nemeses = [
        Reporting(ONCE_AT_ONCE, found={"demoted_at": 12.5, "fault": "not its to change"}),
        Reporting(ONCE_AT_ONCE),
    ]
    driver = NemesisDriver(
        nemeses, context=context, recorder=sink, seed=1, load_start=clock.now(), load_s=1.0
    )
    driver.start()
    driver.stop_and_heal_all()
    sink.close()
    ends = {op.value["fault"]: op.value for op in read_history(sink.path) if op.f == FAULT_END}
    assert set(ends) == {"reporting", "silent"}
    for name, value in ends.items():
        assert value.pop("fault_id").startswith(f"{name}-")
    assert ends["reporting"] == {"demoted_at": 12.5, "fault": "reporting"}
    assert ends["silent"] == {"fault": "silent"}
