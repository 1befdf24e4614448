"""Images, names and ports of the containerised set-up.

Shared by the testcontainers backend and ``docker-compose.yml``
(``tests/chaos/test_docker_compose.py`` checks the compose file against them).
Ports here are inside containers or a compose network namespace, never on this
machine's loopback: the testcontainers backend publishes them on free ports.
"""

from __future__ import annotations

REDIS_IMAGE = "redis:7.2"
TOXIPROXY_IMAGE = "ghcr.io/shopify/toxiproxy:2.9.0"

# Toxiproxy's own default API port.
TOXIPROXY_API_PORT = 8474
# Redis's default port, inside its container.
REDIS_PORT = 6379
# The Redis container's name on the run's network, which proxies use as upstream.
REDIS_ALIAS = "redis"
# Proxies of a containerised Toxiproxy listen on PROXY_PORT_BASE + slot; each port is
# published when the container starts, so a run can hold at most MAX_PROXY_SLOTS.
PROXY_PORT_BASE = 21000
MAX_PROXY_SLOTS = 16
