"""The designs' clients: a plain URL as ``Redis.from_url``, a Sentinel URL as redis-py's
``Sentinel.master_for``, with each design's own options on both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from redis.sentinel import SentinelConnectionPool

from duetime.chaos.designs import contract, idempotency_keys, poll_remove_run, priority_score
from duetime.chaos.designs.redis_client import redis_client
from duetime.chaos.system.sentinel_group import SentinelGroup
from duetime.errors import InvalidInput

SENTINEL_URL = "redis+sentinel://127.0.0.1:26001,127.0.0.1:26002/jobs/3"
PLAIN_URL = "redis://127.0.0.1:6001/3"
# Every function a design connects through.
CONNECTS: dict[str, Callable[[str], redis.Redis]] = {
    "contract.connect": contract.connect,
    "poll_remove_run.connect": poll_remove_run.connect,
    "idempotency_keys.connect_raw": idempotency_keys.connect_raw,
    "priority_score.connect_raw": priority_score.connect_raw,
}
# The connection options a design sets or a URL carries (retries: _retry).
OPTIONS = ("db", "socket_timeout", "socket_connect_timeout", "decode_responses", "password")


def _options(client: redis.Redis) -> dict[str, Any]:
    kwargs = client.connection_pool.connection_kwargs
    return {k: kwargs.get(k) for k in OPTIONS}


def _retry(client: redis.Redis) -> tuple[str, int, list[type[Exception]]]:
    """What a connection of ``client`` resends: backoff kind, retries, on which errors."""
    conn = client.connection_pool.make_connection()
    return (type(conn.retry._backoff).__name__, conn.retry._retries, conn.retry_on_error)


@pytest.mark.parametrize("name", CONNECTS)
def test_a_sentinel_url_keeps_the_designs_options_and_retries(name: str) -> None:
    connect = CONNECTS[name]
    plain, sentinel = connect(PLAIN_URL), connect(SENTINEL_URL)
    pool = sentinel.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "jobs"
    assert pool.connection_kwargs["db"] == plain.connection_pool.connection_kwargs["db"] == 3
    assert _options(sentinel) == _options(plain)
    assert _retry(sentinel) == _retry(plain)
    sentinels = pool.sentinel_manager.sentinels
    assert [s.connection_pool.connection_kwargs["port"] for s in sentinels] == [26001, 26002]
    assert not isinstance(plain.connection_pool, SentinelConnectionPool)


def test_poll_remove_run_resends_like_ioredis_behind_sentinel_too() -> None:
    backoff, retries, on = _retry(poll_remove_run.connect(SENTINEL_URL))
    assert (backoff, retries) == ("IoredisBackoff", poll_remove_run.IOREDIS_MAX_RETRIES_PER_REQUEST)
    assert set(on) == {redis.ConnectionError, redis.TimeoutError}
    assert _retry(contract.connect(SENTINEL_URL))[1] == 0


def test_the_servers_get_the_credentials_and_tls_the_sentinels_the_timeouts_only() -> None:
    client = redis_client(
        "rediss+sentinel://me:s%3Acret@127.0.0.1:26001/jobs/2", socket_timeout=1.5, db=0
    )
    server = client.connection_pool.connection_kwargs
    # As with Redis.from_url, the URL's database and credentials win over the keywords.
    assert (server["username"], server["password"], server["db"]) == ("me", "s:cret", 2)
    assert server["socket_timeout"] == 1.5
    assert client.connection_pool.connection_class.__name__ == "SentinelManagedSSLConnection"
    (watcher,) = client.connection_pool.sentinel_manager.sentinels
    asked = watcher.connection_pool.connection_kwargs
    assert asked["socket_timeout"] == 1.5
    assert asked.get("password") is None and asked.get("username") is None


@pytest.mark.parametrize(
    "url", ["redis+sentinel://127.0.0.1:26001", "redis+sentinel://127.0.0.1:x/jobs"]
)
def test_a_malformed_sentinel_url_is_refused_saying_the_form(url: str) -> None:
    with pytest.raises(InvalidInput, match="Sentinel"):
        contract.connect(url)


def test_every_design_client_writes_to_the_primary_the_sentinels_name(
    sentinel_group: SentinelGroup,
) -> None:
    primary = sentinel_group.primary().client()
    for name, connect in CONNECTS.items():
        client = connect(sentinel_group.url)
        client.set(f"written-by:{name}", "yes")
        client.close()
        for watcher in client.connection_pool.sentinel_manager.sentinels:
            watcher.close()
        assert primary.get(f"written-by:{name}") == b"yes", name
    primary.close()
