"""The network between Redis and its clients: one Toxiproxy proxy per client."""

from __future__ import annotations

from .routes import ClientRoutes, Route, RouteError

__all__ = ["ClientRoutes", "Route", "RouteError"]
