"""Checkers: ``check(history) -> Result`` with a three-valued verdict, composed by name."""

from __future__ import annotations

from . import cron, dead_letters, duplicated, early, fenced, lateness, lost, skew
from .result import VERDICTS, Checker, Result, Verdict, run_checker, run_checkers

DEFAULT_CHECKERS: dict[str, Checker] = {
    "lost": lost.check,
    "unexplained_loss": lost.check_unexplained,
    "duplicated": duplicated.check,
    "fenced": fenced.check,
    "dead_letters": dead_letters.check,
    "early": early.check,
    "lateness": lateness.check,
    "cron": cron.check,
    "skew": skew.check,
}

__all__ = [
    "DEFAULT_CHECKERS",
    "VERDICTS",
    "Checker",
    "Result",
    "Verdict",
    "run_checker",
    "run_checkers",
]
