"""Fixtures of the chaos tests."""

from __future__ import annotations

import pytest
from history_builder import HistoryBuilder


@pytest.fixture
def hb() -> HistoryBuilder:
    """An empty history to fill in with readable calls."""
    return HistoryBuilder()
