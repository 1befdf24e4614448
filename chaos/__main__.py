"""Entry point of ``python -m duetime.chaos``."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
