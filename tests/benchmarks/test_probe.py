"""The drivers' shared part: payloads and due times."""

from __future__ import annotations

from benchmarks.peers import probe


def test_due_times_are_whole_milliseconds_spread_evenly() -> None:
    jobs = probe.jobs(4, 1000.0004, 2.0, pad=3)
    assert [j.due for j in jobs] == [1000.001, 1000.501, 1001.001, 1001.501]
    assert jobs[1].payload == {"i": 1, "due": 1000.501, "pad": "xxx"}


def test_due_now_is_zero() -> None:
    assert {j.due for j in probe.jobs(3, 0.0, 5.0, pad=0)} == {0.0}


def test_batches_of_a_thousand() -> None:
    parts = probe.chunks(probe.jobs(2500, 0.0, 0.0, pad=0))
    assert [len(p) for p in parts] == [1000, 1000, 500]
