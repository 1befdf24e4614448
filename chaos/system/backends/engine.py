"""Is there a Docker engine to run containers on, and if not, why not."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

# Any API version will do to build the client: it then asks the engine unversioned
# questions only, and building it sends nothing (``version="auto"`` would connect in
# the constructor).
PROBE_API_VERSION = "1.24"
ENGINE_TIMEOUT_S = 5
DEFAULT_SOCKET = "/var/run/docker.sock"


def docker_engine() -> tuple[bool, str]:
    """``(True, engine version)`` if a Docker engine answers, else ``(False, why)``.

    Finds the engine as testcontainers does (``$DOCKER_HOST``, its properties file,
    the docker context, else the default socket) and asks it through testcontainers'
    own Docker client, so the answer is the one the backend would get.
    """
    try:
        from testcontainers.core.docker_client import DockerClient, get_docker_host
    except ImportError as exc:
        return False, f"the testcontainers backend needs `pip install testcontainers` ({exc})"
    host = get_docker_host() or f"unix://{DEFAULT_SOCKET}"
    if host.startswith("unix://") and not Path(host.removeprefix("unix://")).exists():
        return False, f"no Docker engine answers (no socket at {host})"
    # The Docker SDK leaves the socket of a refused connection unclosed; its
    # ResourceWarning is the SDK's, not ours: collect it here, quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        answer = _ask(DockerClient)
        gc.collect()
    return answer


def _ask(client_class: type) -> tuple[bool, str]:
    try:
        client = client_class(version=PROBE_API_VERSION, timeout=ENGINE_TIMEOUT_S).client
    except Exception as exc:  # a malformed $DOCKER_HOST, say
        return False, f"no Docker engine answers ({_first_line(exc)})"
    try:
        version = client.api.version(api_version=False).get("Version", "unknown version")
    except Exception as exc:  # docker's and requests' errors alike: nobody answered
        return False, f"no Docker engine answers at {client.api.base_url} ({_first_line(exc)})"
    finally:
        client.close()
    return True, f"Docker engine {version}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
