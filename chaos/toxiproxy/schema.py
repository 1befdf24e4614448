"""Request bodies decoded the way the real server's Go ``encoding/json`` decodes them.

The first JSON value is read and anything after it ignored; ``null`` leaves a field
at its default; keys match case-insensitively; a value of the wrong JSON type, or
a body that is not JSON, is a 400 ``bad request body``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from duetime.chaos.toxiproxy.errors import ApiError, Problem
from duetime.chaos.toxiproxy.toxics import json_kind

FLOAT32_MAX = 3.4028234663852886e38


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def decode_json(body: bytes) -> object:
    """The first JSON value of ``body``; raises the 400 the real server gives for bad JSON."""
    try:
        text = body.decode("utf-8").lstrip(" \t\r\n")
    except UnicodeDecodeError as exc:
        raise Problem.BAD_REQUEST_BODY.error(str(exc)) from None
    if not text:
        raise Problem.BAD_REQUEST_BODY.error("EOF")
    try:
        value, _ = _DECODER.raw_decode(text)
    except ValueError as exc:
        raise Problem.BAD_REQUEST_BODY.error(str(exc)) from None
    return value


def _kind(value: object) -> str:
    return json_kind(value).split()[0]


def _lookup(payload: Mapping[str, object], name: str) -> object:
    if name in payload:
        return payload[name]
    for key, value in payload.items():
        if key.casefold() == name.casefold():
            return value
    return None


def _type_error(value: object, where: str, go_type: str) -> ApiError:
    return Problem.BAD_REQUEST_BODY.error(
        f"json: cannot unmarshal {_kind(value)} into Go struct field {where} of type {go_type}"
    )


def _object(payload: object, go_type: str) -> Mapping[str, object]:
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise Problem.BAD_REQUEST_BODY.error(
            f"json: cannot unmarshal {_kind(payload)} into Go value of type {go_type}"
        )
    return payload


def _string(payload: Mapping[str, object], name: str, default: str, where: str) -> str:
    value = _lookup(payload, name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _type_error(value, f"{where}.{name}", "string")
    return value


def _bool(
    payload: Mapping[str, object], name: str, default: bool | None, where: str
) -> bool | None:
    value = _lookup(payload, name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _type_error(value, f"{where}.{name}", "bool")
    return value


def _float32(payload: Mapping[str, object], name: str, default: float, where: str) -> float:
    value = _lookup(payload, name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > FLOAT32_MAX:
        raise _type_error(value, f"{where}.{name}", "float32")
    return float(value)


@dataclass(frozen=True)
class ProxyInput:
    """The fields of a proxy in a request; ``enabled`` None means "not given"."""

    name: str = ""
    listen: str = ""
    upstream: str = ""
    enabled: bool | None = None


def proxy_input(payload: object, defaults: ProxyInput) -> ProxyInput:
    """Decode a proxy body over ``defaults`` (create: empty and enabled; update: current)."""
    fields = _object(payload, "toxiproxy.Proxy")
    return ProxyInput(
        name=_string(fields, "name", defaults.name, "Proxy"),
        listen=_string(fields, "listen", defaults.listen, "Proxy"),
        upstream=_string(fields, "upstream", defaults.upstream, "Proxy"),
        enabled=_bool(fields, "enabled", defaults.enabled, "Proxy"),
    )


def require_name_and_upstream(proxy: ProxyInput, suffix: str = "") -> None:
    """400 ``missing required field`` unless both are given (suffix: `` at proxy N``)."""
    if not proxy.name:
        raise Problem.MISSING_FIELD.error(f"name{suffix}")
    if not proxy.upstream:
        raise Problem.MISSING_FIELD.error(f"upstream{suffix}")


def populate_inputs(payload: object) -> list[ProxyInput]:
    """Decode and check a ``/populate`` body: a list of proxies, ``enabled`` defaulting to true."""
    if payload is None:
        return []
    if not isinstance(payload, list):
        raise Problem.BAD_REQUEST_BODY.error(
            f"json: cannot unmarshal {_kind(payload)} into Go value of type "
            "[]struct { toxiproxy.Proxy; Enabled *bool }"
        )
    proxies = [proxy_input(item, ProxyInput(enabled=True)) for item in payload]
    for position, proxy in enumerate(proxies, start=1):
        require_name_and_upstream(proxy, f" at proxy {position}")
    return proxies


@dataclass(frozen=True)
class ToxicInput:
    """A toxic in a create request, before its type and attributes are checked."""

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: object


def toxic_input(payload: object) -> ToxicInput:
    fields = _object(payload, "toxics.ToxicWrapper")
    attributes = _lookup(fields, "attributes")
    if attributes is not None and not isinstance(attributes, Mapping):
        raise _type_error(attributes, "ToxicWrapper.attributes", "toxics.NoopToxic")
    return ToxicInput(
        name=_string(fields, "name", "", "ToxicWrapper"),
        type=_string(fields, "type", "", "ToxicWrapper"),
        stream=_string(fields, "stream", "downstream", "ToxicWrapper"),
        toxicity=_float32(fields, "toxicity", 1.0, "ToxicWrapper"),
        attributes=attributes,
    )


def toxic_update(payload: object, toxicity: float) -> tuple[object, float]:
    """The ``attributes`` (None if absent) and toxicity (``toxicity`` if absent) of an update."""
    fields = _object(payload, "struct { Attributes interface {}; Toxicity float32 }")
    return _lookup(fields, "attributes"), _float32(fields, "toxicity", toxicity, "Toxicity")
