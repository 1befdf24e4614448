"""Counts in messages: "1 task", "2 tasks"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, in the plural unless ``n`` is 1 (``plural`` when not noun + s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
