from __future__ import annotations

import random

from duetime.chaos.nemesis import FaultSchedule


def test_faults_start_on_schedule_and_leave_time_to_heal() -> None:
    s = FaultSchedule(first_s=2.0, every_s=3.0, jitter_s=0.5, hold_s=(1.0, 2.0))
    times = s.times(random.Random(1), until=20.0)
    assert len(times) == 6
    for i, t in enumerate(times):
        assert abs(t - (2.0 + 3.0 * i)) <= 0.5
        assert t + 2.0 < 20.0 + 0.5
    assert times == s.times(random.Random(1), until=20.0)


def test_no_room_no_faults() -> None:
    assert FaultSchedule(first_s=5.0, hold_s=(6.0, 6.0)).times(random.Random(1), 10.0) == []
