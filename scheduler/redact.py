"""Hide the secrets of a Redis URL before it is shown anywhere (help, logs, errors)."""

from __future__ import annotations

import re

MASK = "***"

# scheme://userinfo@rest, up to the *last* '@': an unencoded '@', '/' or '?' in a
# password is a common mistake and must not leak either (masking too much is harmless).
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>.*)@", re.DOTALL)
# Query parameters redis-py turns into connection options that hold secrets.
_SECRET_PARAM = re.compile(r"(?i)(?P<key>(?:^|[?&;])[^=&;#]*password[^=&;#]*=)(?P<value>[^&;#]*)")


def mask_url(url: str) -> str:
    """``url`` with its password (and any ``...password=`` query value) replaced by ``***``.

    ``redis://u:secret@h:1/0`` becomes ``redis://u:***@h:1/0``; userinfo without a
    colon (``redis://token@h``) is masked whole, since it may be a bare secret.
    Text that is not a URL is returned with the same rules applied, never raising.
    """

    def userinfo(m: re.Match[str]) -> str:
        user, colon, _ = m.group("userinfo").partition(":")
        shown = f"{user}:{MASK}" if colon else MASK
        return f"{m.group('scheme')}{shown}@"

    masked = _USERINFO.sub(userinfo, url, count=1)
    head, q, query = masked.partition("?")
    return head + q + _SECRET_PARAM.sub(lambda m: m.group("key") + MASK, query)
