"""Which Redis deployment a URL names, and the redis-py client that talks to it.

- ``redis://``, ``rediss://``, ``unix://``: one server, or a Redis Cluster. duetime asks
  the server on connect (``HELLO``, which needs no ACL permission): a node that says
  ``mode cluster`` gets a ``RedisCluster`` client seeded from it, which follows
  ``MOVED``/``ASK`` and finds the new master after a failover. When the server cannot be
  reached at that moment, the URL is taken as one server.
- ``redis+cluster://`` and ``rediss+cluster://``: a Cluster, without asking.
- ``redis+sentinel://host:port[,host:port...]/service[/db]`` (``rediss+sentinel://`` for
  TLS to the servers): the primary that the Sentinels name for ``service``, found again
  after every failover. Credentials in the URL are the servers', not the Sentinels'.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any, TypeAlias

import redis
from redis.cluster import RedisCluster
from redis.sentinel import Sentinel, SentinelConnectionPool

from .errors import InvalidInput
from .redact import mask_url

# Every client duetime works through.
Client: TypeAlias = "redis.Redis | RedisCluster"

SENTINEL_SCHEMES = {"redis+sentinel": "redis", "rediss+sentinel": "rediss"}
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelURL:
    """What a ``redis+sentinel://`` URL names."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int
    tls: bool
    username: str | None
    password: str | None


def parse_sentinel_url(url: str) -> SentinelURL:
    """Read ``redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]``."""
    shown = mask_url(url)
    scheme, _, rest = url.partition("://")
    if scheme not in SENTINEL_SCHEMES:
        raise InvalidInput(f"not a Sentinel URL: {shown}")
    netloc, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    if query:
        raise InvalidInput(f"a Sentinel URL takes no query parameters (pass keywords): {shown}")
    userinfo, _, hosts = netloc.rpartition("@")
    username, password = None, None
    if userinfo:
        user, _, pw = userinfo.partition(":")
        username = urllib.parse.unquote(user) or None
        password = urllib.parse.unquote(pw) or None
    sentinels = []
    for part in hosts.split(","):
        host, sep, port = part.rpartition(":")
        if not sep:
            host, port = part, str(SENTINEL_PORT)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidInput(f"a Sentinel address must be host:port, not {part!r} in {shown}")
        sentinels.append((host.strip("[]"), int(port)))
    parts = [p for p in path.split("/") if p]
    if not parts or len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
        raise InvalidInput(
            f"a Sentinel URL names the service and optionally the database: "
            f"redis+sentinel://host:port,host:port/service[/db], not {shown}"
        )
    return SentinelURL(
        sentinels=sentinels,
        service=urllib.parse.unquote(parts[0]),
        db=int(parts[1]) if len(parts) == 2 else 0,
        tls=SENTINEL_SCHEMES[scheme] == "rediss",
        username=username,
        password=password,
    )


def connect(url: str, options: dict[str, Any]) -> Client:
    """The client for ``url`` (see the module docstring); ``options`` are redis-py's.

    Raises ``TypeError`` or ``ValueError`` for options or a URL redis-py refuses.
    """
    scheme = url.partition("://")[0]
    if scheme in SENTINEL_SCHEMES:
        return _sentinel_client(parse_sentinel_url(url), options)
    if scheme in CLUSTER_SCHEMES:
        return _cluster_client(CLUSTER_SCHEMES[scheme] + url[len(scheme) :], options)
    client = redis.Redis.from_url(url, **options)
    pool = client.connection_pool
    # redis-py checks the options only when it first connects: check them now.
    pool.connection_class(**pool.connection_kwargs)
    if scheme != "unix" and server_mode(client) == "cluster":
        client.close()
        return _cluster_client(url, options)
    return client


def server_mode(client: redis.Redis) -> str | None:
    """``standalone``, ``cluster`` or ``sentinel`` as ``HELLO`` says; None if unknown."""
    try:
        hello = client.execute_command("HELLO")  # type: ignore[no-untyped-call]
    except redis.RedisError:
        return None
    fields = hello if isinstance(hello, dict) else dict(zip(hello[::2], hello[1::2], strict=False))
    for key, value in fields.items():
        if _text(key) == "mode":
            return _text(value)
    return None


def is_cluster(client: Any) -> bool:
    return isinstance(client, RedisCluster)


def is_sentinel_managed(client: Any) -> bool:
    return isinstance(getattr(client, "connection_pool", None), SentinelConnectionPool)


def _cluster_client(url: str, options: dict[str, Any]) -> RedisCluster:
    path = urllib.parse.urlsplit(url).path.strip("/")
    if path not in ("", "0"):
        raise ValueError(f"a Redis Cluster has only database 0, not {path!r}")
    return RedisCluster.from_url(url, **options)


def _sentinel_client(parsed: SentinelURL, options: dict[str, Any]) -> redis.Redis:
    server = dict(options)
    if parsed.username is not None:
        server.setdefault("username", parsed.username)
    if parsed.password is not None:
        server.setdefault("password", parsed.password)
    if parsed.tls:
        server["ssl"] = True
    # The Sentinels get the timeouts only: credentials and TLS are the servers'.
    sentinel_kwargs = {k: v for k, v in options.items() if k.startswith("socket_")}
    sentinel = Sentinel(parsed.sentinels, sentinel_kwargs=sentinel_kwargs, **server)
    client: redis.Redis = sentinel.master_for(parsed.service, db=parsed.db)
    return client


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
