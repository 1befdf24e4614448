"""TCP addresses written ``host:port`` as the real server reads and reports them (Go's rules)."""

from __future__ import annotations

import contextlib
import socket

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
LISTEN_BACKLOG = 1024


def split_host_port(address: str) -> tuple[str, str]:
    """Split ``host:port``, ``[v6]:port`` or ``:port``; raise ValueError as Go's SplitHostPort."""
    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            raise ValueError("missing ']' in address")
        host, rest = address[1:end], address[end + 1 :]
        if not rest.startswith(":"):
            raise ValueError("missing port in address")
        return host, rest[1:]
    colon = address.rfind(":")
    if colon < 0:
        raise ValueError("missing port in address")
    host, port = address[:colon], address[colon + 1 :]
    if ":" in host:
        raise ValueError("too many colons in address")
    return host, port


def parse_port(text: str) -> int:
    """A port number, or a service name such as ``http``."""
    if text.isdigit():
        port = int(text)
        if port <= 65535:
            return port
        raise ValueError("invalid port")
    if not text:
        return 0
    try:
        return socket.getservbyname(text, "tcp")
    except OSError:
        raise ValueError("unknown port") from None


def join_host_port(host: str, port: int) -> str:
    """``host:port``, with IPv6 hosts in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve_listen(address: str) -> tuple[int, str, int]:
    """The socket family, IP and port to bind for a listen address, like Go's ``net.Listen``.

    A wildcard host binds the dual-stack ``::`` when IPv6 exists; a name binds its
    first IPv4 address if it has one. Raises ValueError with Go's wording.
    """
    if address == "":
        host, port_text = "", "0"
    else:
        host, port_text = split_host_port(address)
    port = parse_port(port_text)
    if host in WILDCARD_HOSTS:
        return (
            (socket.AF_INET6, "::", port) if socket.has_ipv6 else (socket.AF_INET, "0.0.0.0", port)
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ValueError(f"lookup {host}: no such host") from None
    v4 = [i for i in infos if i[0] == socket.AF_INET]
    family, _, _, _, sockaddr = (v4 or infos)[0]
    return int(family), str(sockaddr[0]), port


def open_listener(address: str) -> tuple[socket.socket, str]:
    """A listening socket for ``address`` and the address it really has (the port chosen for 0).

    Raises OSError with a message worded like the real server's listen error.
    """
    try:
        family, ip, port = resolve_listen(address)
    except ValueError as exc:
        raise OSError(f"listen tcp: address {address}: {exc}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and ip == "::":
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((ip, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise OSError(f"listen tcp {join_host_port(ip, port)}: bind: {reason}") from None
    sock.setblocking(False)
    return sock, join_host_port(ip, int(sock.getsockname()[1]))


def canonical_listen(address: str) -> str:
    """The address a listener for ``address`` would report (unchanged if unresolvable)."""
    try:
        _, ip, port = resolve_listen(address)
    except (ValueError, OSError):
        return address
    return join_host_port(ip, port)


def dial_target(address: str) -> tuple[str, int]:
    """Host and port to connect to for an upstream address; an empty host means this machine."""
    host, port_text = split_host_port(address)
    return host or "localhost", parse_port(port_text)
