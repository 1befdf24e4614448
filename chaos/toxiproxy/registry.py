"""The proxies of one server and every change the API can make to them.

Runs on the server's event loop. One lock serializes changes, as the real server's
collection locks do, so a chain change is applied to every live link before the
next one starts. Methods take request bodies as bytes and decode them where the real
server does (after the proxy lookup, so a missing proxy is a 404 before a bad body
is a 400); they return JSON-ready values or raise ApiError / ListenError.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from duetime.chaos.toxiproxy.addresses import canonical_listen
from duetime.chaos.toxiproxy.errors import ApiError, ListenError, Problem
from duetime.chaos.toxiproxy.proxy import Proxy
from duetime.chaos.toxiproxy.schema import (
    ProxyInput,
    decode_json,
    populate_inputs,
    proxy_input,
    require_name_and_upstream,
    toxic_input,
    toxic_update,
)
from duetime.chaos.toxiproxy.spec import Direction, ToxicSpec, float32
from duetime.chaos.toxiproxy.toxics import TOXIC_TYPES

JsonObject = dict[str, object]


@dataclass(frozen=True)
class PopulateResult:
    """The proxies populate created or kept, and the error that stopped it, if any."""

    proxies: list[JsonObject]
    error: ApiError | None = None


class Registry:
    """All proxies by name."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._proxies: dict[str, Proxy] = {}
        self._lock = asyncio.Lock()

    def _get(self, name: str) -> Proxy:
        proxy = self._proxies.get(name)
        if proxy is None:
            raise Problem.PROXY_NOT_FOUND.error()
        return proxy

    async def proxies(self) -> JsonObject:
        async with self._lock:
            return {name: p.to_json() for name, p in self._proxies.items()}

    async def proxy(self, name: str) -> JsonObject:
        async with self._lock:
            return self._get(name).to_json()

    async def create_proxy(self, body: bytes) -> JsonObject:
        wanted = proxy_input(decode_json(body), ProxyInput(enabled=True))
        require_name_and_upstream(wanted)
        async with self._lock:
            if wanted.name in self._proxies:
                raise Problem.PROXY_EXISTS.error()
            proxy = Proxy(wanted.name, wanted.listen, wanted.upstream, self._rng)
            if wanted.enabled:
                await proxy.start()
            self._proxies[proxy.name] = proxy
            return proxy.to_json()

    async def update_proxy(self, name: str, body: bytes) -> JsonObject:
        """Change listen/upstream (restarting the proxy) and enable or disable it."""
        async with self._lock:
            proxy = self._get(name)
            current = ProxyInput(proxy.name, proxy.listen, proxy.upstream, proxy.enabled)
            wanted = proxy_input(decode_json(body), current)
            if (wanted.listen, wanted.upstream) != (proxy.listen, proxy.upstream):
                await proxy.stop()
                proxy.listen, proxy.upstream = wanted.listen, wanted.upstream
            if wanted.enabled and not proxy.enabled:
                await proxy.start()
            elif not wanted.enabled and proxy.enabled:
                await proxy.stop()
            return proxy.to_json()

    async def delete_proxy(self, name: str) -> None:
        async with self._lock:
            await self._get(name).stop()
            del self._proxies[name]

    async def populate(self, body: bytes) -> PopulateResult:
        """Create or replace each proxy; one whose listen and upstream match is kept as is."""
        try:
            wanted = populate_inputs(decode_json(body))
        except ApiError as exc:
            return PopulateResult([], exc)
        done: list[JsonObject] = []
        async with self._lock:
            for item in wanted:
                existing = self._proxies.get(item.name)
                if existing is not None and _same_addresses(existing, item):
                    done.append(existing.to_json())
                    continue
                if existing is not None:
                    await existing.stop()
                proxy = Proxy(item.name, item.listen, item.upstream, self._rng)
                if item.enabled:
                    try:
                        await proxy.start()
                    except ListenError as exc:
                        return PopulateResult(done, ApiError(str(exc), 500))
                self._proxies[item.name] = proxy
                done.append(proxy.to_json())
        return PopulateResult(done)

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        async with self._lock:
            for proxy in list(self._proxies.values()):
                await proxy.start()
                await proxy.chain.clear()

    async def toxics(self, proxy_name: str) -> list[JsonObject]:
        async with self._lock:
            return [spec.to_json() for spec in self._get(proxy_name).chain.all()]

    async def toxic(self, proxy_name: str, toxic_name: str) -> JsonObject:
        async with self._lock:
            return self._find_toxic(self._get(proxy_name), toxic_name).to_json()

    async def add_toxic(self, proxy_name: str, body: bytes) -> JsonObject:
        async with self._lock:
            proxy = self._get(proxy_name)
            wanted = toxic_input(decode_json(body))
            direction = Direction.parse(wanted.stream)
            if direction is None:
                raise Problem.INVALID_STREAM.error()
            name = wanted.name or f"{wanted.type}_{wanted.stream}"
            toxic_type = TOXIC_TYPES.get(wanted.type)
            if toxic_type is None:
                raise Problem.INVALID_TOXIC_TYPE.error()
            if proxy.chain.find(name) is not None:
                raise Problem.TOXIC_EXISTS.error()
            try:
                toxic = toxic_type.from_attributes(wanted.attributes)
            except ValueError as exc:
                raise Problem.BAD_REQUEST_BODY.error(str(exc)) from None
            spec = ToxicSpec(
                name, wanted.type, wanted.stream, direction, float32(wanted.toxicity), toxic
            )
            await proxy.chain.add(spec)
            return spec.to_json()

    async def update_toxic(self, proxy_name: str, toxic_name: str, body: bytes) -> JsonObject:
        """Merge the given attributes into the toxic's and set toxicity if given."""
        async with self._lock:
            proxy = self._get(proxy_name)
            spec = self._find_toxic(proxy, toxic_name)
            attributes, toxicity = toxic_update(decode_json(body), spec.toxicity)
            try:
                toxic = type(spec.toxic).from_attributes(attributes, base=spec.toxic)
            except ValueError as exc:
                raise Problem.BAD_REQUEST_BODY.error(str(exc)) from None
            updated = ToxicSpec(
                spec.name, spec.type, spec.stream, spec.direction, float32(toxicity), toxic
            )
            await proxy.chain.update(updated)
            return updated.to_json()

    async def delete_toxic(self, proxy_name: str, toxic_name: str) -> None:
        async with self._lock:
            proxy = self._get(proxy_name)
            await proxy.chain.remove(self._find_toxic(proxy, toxic_name))

    async def shutdown(self) -> None:
        """Stop every proxy: listeners closed, connections closed."""
        async with self._lock:
            for proxy in self._proxies.values():
                await proxy.stop()

    @staticmethod
    def _find_toxic(proxy: Proxy, name: str) -> ToxicSpec:
        spec = proxy.chain.find(name)
        if spec is None:
            raise Problem.TOXIC_NOT_FOUND.error()
        return spec


def _same_addresses(proxy: Proxy, wanted: ProxyInput) -> bool:
    if proxy.upstream != wanted.upstream:
        return False
    return wanted.listen == proxy.listen or canonical_listen(wanted.listen) == proxy.listen
