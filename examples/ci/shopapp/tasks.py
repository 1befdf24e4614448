"""The shop's task handlers, as its workers run them:

    python -m duetime worker --namespace shop --handlers shopapp.tasks:HANDLERS

``send_receipt`` renders a receipt and "sends" it once per idempotency key (the outbox
stands in for a mail service that drops repeated keys); ``restock`` is a coroutine that
waits on a slow supplier API.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

OUTBOX = Path(os.environ.get("SHOPAPP_OUTBOX", Path(tempfile.gettempdir()) / "shopapp-outbox"))


def send_receipt(task: Any) -> None:
    order = task.data
    total = sum(line["qty"] * line["cents"] for line in order["lines"])
    time.sleep(0.05)  # the template engine
    OUTBOX.mkdir(parents=True, exist_ok=True)
    receipt = OUTBOX / f"{task.idempotency_key.replace('/', '_')}.txt"
    receipt.write_text(f"order {order['order']}: {total / 100:.2f} EUR\n")


async def restock(task: Any) -> None:
    await asyncio.sleep(task.data.get("supplier_ms", 100) / 1000)


HANDLERS = {"send_receipt": send_receipt, "restock": restock}
