"""The redis-py client a user of a published design would make for a URL.

A plain URL (``redis://``, ``rediss://``, ``unix://``) gets ``redis.Redis.from_url``, as
the designs always did. A ``redis+sentinel://host:port[,host:port...]/service[/db]`` URL
(the replicated topology's) gets what redis-py's docs show for Sentinel:
``Sentinel([...]).master_for(service)``, which finds the primary again after a failover.
Either way the design's own options (timeouts, decoding, retry) reach every connection
to the server unchanged; the Sentinels get the socket timeouts only.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.sentinel import Sentinel

from duetime.topology import SENTINEL_SCHEMES, parse_sentinel_url


def redis_client(url: str, **options: Any) -> redis.Redis:
    """A client of ``url`` with redis-py ``options``; a Sentinel URL names its primary.

    Raises ``duetime.errors.InvalidInput`` for a malformed Sentinel URL.
    """
    if url.partition("://")[0] not in SENTINEL_SCHEMES:
        return redis.Redis.from_url(url, **options)
    parsed = parse_sentinel_url(url)
    # As with from_url, what the URL says wins over the keywords.
    server = {**options, "db": parsed.db}
    if parsed.username is not None:
        server["username"] = parsed.username
    if parsed.password is not None:
        server["password"] = parsed.password
    if parsed.tls:
        server["ssl"] = True
    sentinel_kwargs = {k: v for k, v in options.items() if k.startswith("socket_")}
    sentinel = Sentinel(parsed.sentinels, sentinel_kwargs=sentinel_kwargs)
    client: redis.Redis = sentinel.master_for(parsed.service, **server)
    return client
