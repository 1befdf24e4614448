"""The shop's handlers under duetime's chaos testbed (the ``chaos`` fixture of its plugin)."""

from pathlib import Path

import pytest

HERE = Path(__file__).parent
ORDER = {"order": 7, "lines": [{"qty": 1, "cents": 999}]}


def test_receipts_survive_worker_kills(chaos):
    """A built-in scenario (kill_workers, its short version) with the shop's handlers."""
    result = chaos.run(
        "kill_workers",
        handlers="shopapp.tasks:HANDLERS",
        tasks={"send_receipt": [ORDER], "restock": [{"supplier_ms": 200}]},
        config="aof=everysec",
        quick=True,
    )
    assert result.passed, result.summary()


@pytest.mark.chaos(config="aof=always")
def test_checkout_rush(chaos):
    """The shop's own scenario file: its task kinds, payloads and faults."""
    result = chaos.run(HERE.parent / "scenarios" / "checkout_rush.py")
    assert result.passed, result.summary()
