"""A proxy: a listener that pairs each client with a new upstream connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from collections.abc import Callable

from duetime.chaos.toxiproxy.addresses import dial_target, open_listener
from duetime.chaos.toxiproxy.chain import ToxicChain
from duetime.chaos.toxiproxy.errors import ListenError
from duetime.chaos.toxiproxy.link import Link
from duetime.chaos.toxiproxy.listener import Listener
from duetime.chaos.toxiproxy.spec import Direction

log = logging.getLogger(__name__)

LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


class Connection:
    """A client socket and its upstream socket, joined by one link per direction."""

    def __init__(
        self,
        chain: ToxicChain,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        *,
        rng: random.Random,
        on_closed: Callable[[Connection], None],
    ) -> None:
        self._chain = chain
        self._writers = (client[1], upstream[1])
        self._on_closed = on_closed
        self._reset = False
        self._finished: set[Link] = set()
        self._closed = False
        self._links = (
            Link(
                Direction.UPSTREAM,
                chain.specs(Direction.UPSTREAM),
                client[0],
                upstream[1],
                rng=rng,
                on_reset=self._request_reset,
                on_finished=self._link_finished,
            ),
            Link(
                Direction.DOWNSTREAM,
                chain.specs(Direction.DOWNSTREAM),
                upstream[0],
                client[1],
                rng=rng,
                on_reset=self._request_reset,
                on_finished=self._link_finished,
            ),
        )

    def start(self) -> None:
        for link in self._links:
            self._chain.attach(link)
            link.start()

    def _request_reset(self) -> None:
        """From now on every close of either socket is an RST (SO_LINGER 0)."""
        self._reset = True
        for writer in self._writers:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)

    def _close_writer(self, writer: asyncio.StreamWriter, *, abort: bool) -> None:
        if abort or self._reset:
            writer.transport.abort()
        else:
            writer.close()

    def _link_finished(self, link: Link) -> None:
        # The destination's stream ended: close that socket, which ends the other
        # direction's source in turn, as the real server's full close does.
        self._close_writer(link.dest, abort=False)
        self._finished.add(link)
        if len(self._finished) == len(self._links):
            self.close()

    def close(self, *, abort: bool = False) -> None:
        """Tear the connection down now; ``abort`` drops unsent data (proxy disabled)."""
        if self._closed:
            return
        self._closed = True
        for link in self._links:
            self._chain.detach(link)
            link.kill()
        for writer in self._writers:
            self._close_writer(writer, abort=abort)
        self._on_closed(self)


class Proxy:
    """One named proxy: its addresses, its toxics and, while enabled, its listener."""

    def __init__(self, name: str, listen: str, upstream: str, rng: random.Random) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.chain = ToxicChain()
        self._rng = rng
        self._listener: Listener | None = None
        self._connections: set[Connection] = set()
        self._dialing: set[asyncio.Task[None]] = set()
        # Accepted clients not yet handed to asyncio; stop() closes them itself, as a
        # task cancelled before its first step never runs its own cleanup.
        self._raw_clients: dict[asyncio.Task[None], socket.socket] = {}

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [spec.to_json() for spec in self.chain.all()],
        }

    async def start(self) -> None:
        """Listen; ``listen`` becomes the bound address. Raises ListenError."""
        if self.enabled:
            return
        try:
            sock, bound = open_listener(self.listen)
        except OSError as exc:
            raise ListenError(str(exc)) from None
        self._listener = Listener(sock, self._on_client)
        self.listen = bound
        self.enabled = True

    async def stop(self) -> None:
        """Stop listening and close every connection and every client still being dialed for."""
        if not self.enabled or self._listener is None:
            return
        self.enabled = False
        listener, self._listener = self._listener, None
        listener.close()
        for task in list(self._dialing):
            task.cancel()
        for client in self._raw_clients.values():
            client.close()
        self._raw_clients.clear()
        for connection in list(self._connections):
            connection.close(abort=True)
        if self._dialing:
            await asyncio.wait(set(self._dialing))

    def _on_client(self, client: socket.socket) -> None:
        if not self.enabled:
            client.close()
            return
        task = asyncio.get_running_loop().create_task(self._serve(client))
        self._dialing.add(task)
        self._raw_clients[task] = client
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._dialing.discard(task)
        client = self._raw_clients.pop(task, None)
        if client is not None:
            client.close()

    async def _serve(self, client: socket.socket) -> None:
        """Dial the upstream for ``client``, then join the two; runs until both are set up."""
        task = asyncio.current_task()
        assert task is not None
        try:
            host, port = dial_target(self.upstream)
            upstream = await asyncio.open_connection(host, port)
        except (OSError, ValueError) as exc:
            log.info("proxy %s: cannot reach upstream %s: %s", self.name, self.upstream, exc)
            return  # _forget closes the client
        # From here asyncio owns the client socket: cancelled while wrapping it,
        # create_connection closes it.
        self._raw_clients.pop(task, None)
        try:
            downstream = await asyncio.open_connection(sock=client)
        except BaseException:
            upstream[1].transport.abort()
            raise
        connection = Connection(
            self.chain,
            downstream,
            upstream,
            rng=self._rng,
            on_closed=self._connections.discard,
        )
        self._connections.add(connection)
        connection.start()
