"""Backends: where the Redis under test and its Toxiproxy run (``--backend``)."""

from __future__ import annotations

from collections.abc import Callable

from .base import Backend, BackendUnavailable, ProxySite, RedisNode, Unsupported
from .local import LocalBackend
from .power_disk import PowerDisk, PowerDiskUnavailable

DEFAULT_BACKEND = "local"


def _testcontainers() -> Backend:
    from .containers import TestcontainersBackend

    return TestcontainersBackend()


BACKENDS: dict[str, Callable[[], Backend]] = {
    LocalBackend.name: LocalBackend,
    "testcontainers": _testcontainers,
}


def check_backend(name: str) -> str:
    """``name`` if that backend can run here; raises BackendUnavailable saying why not."""
    make_backend(name).close()
    return name


def make_backend(name: str) -> Backend:
    """The backend called ``name``; raises BackendUnavailable (saying why) if it cannot run."""
    factory = BACKENDS.get(name)
    if factory is None:
        raise BackendUnavailable(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")
    return factory()


__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "Backend",
    "BackendUnavailable",
    "LocalBackend",
    "PowerDisk",
    "PowerDiskUnavailable",
    "ProxySite",
    "RedisNode",
    "Unsupported",
    "check_backend",
    "make_backend",
]
