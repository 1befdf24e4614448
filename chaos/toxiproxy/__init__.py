"""A Toxiproxy-compatible server (Shopify's HTTP API and toxics) embedded in Python.

``ToxiproxyServer`` runs it in-process with the standard library only;
``python -m duetime.chaos.toxiproxy`` runs it in the foreground. The testbed's façade,
``duetime.chaos.toxiproxy.client`` (``toxiproxy_endpoint``, ``ToxiproxyClient``), picks
``$TOXIPROXY_URL`` or this server and drives either through ``toxiproxy-python``.
"""

from duetime.chaos.toxiproxy.server import ToxiproxyServer
from duetime.chaos.toxiproxy.toxics import TOXIC_TYPES

__all__ = ["TOXIC_TYPES", "ToxiproxyServer"]
