"""``mask_url``: no password of a Redis URL is ever shown."""

from __future__ import annotations

import pytest

from duetime.redact import mask_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://u:SECRET@h:1/0", "redis://u:***@h:1/0"),
        ("rediss://:SECRET@h:6380/2", "rediss://:***@h:6380/2"),
        ("redis://SECRET@h/0", "redis://***@h/0"),
        ("redis://u:SE@C/R?ET@h:1/0", "redis://u:***@h:1/0"),
        ("redis://u:S%40CRET@h/0", "redis://u:***@h/0"),
        ("redis://h:1/0?password=SECRET&db=1", "redis://h:1/0?password=***&db=1"),
        (
            "rediss://h/0?ssl_ca_certs=/ca&ssl_password=SECRET",
            "rediss://h/0?ssl_ca_certs=/ca&ssl_password=***",
        ),
        ("unix:///run/redis.sock?password=SECRET", "unix:///run/redis.sock?password=***"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("not a url", "not a url"),
        ("", ""),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown
    assert "SECRET" not in mask_url(url)
