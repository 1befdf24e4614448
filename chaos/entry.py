"""The command line's entry point: ``python -m duetime.chaos`` and ``duetime-chaos``.

The testbed needs the ``chaos`` extra (rich, matplotlib, hypothesis, ...), which
``pip install duetime`` alone does not bring: say so in one line, not a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from duetime.chaos.cli import main as cli_main
    except ModuleNotFoundError as exc:
        missing = (exc.name or "a module").partition(".")[0]
        print(
            f"duetime.chaos needs the testbed's extras ({missing} is missing): "
            "pip install 'duetime[chaos]'",
            file=sys.stderr,
        )
        return 2
    return cli_main(argv)
