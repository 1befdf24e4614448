"""A toxic as configured on a proxy: name, stream, toxicity and the toxic's attributes."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from duetime.chaos.toxiproxy.toxics import Toxic


class Direction(Enum):
    """``upstream`` is client to server, ``downstream`` server to client."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"

    @classmethod
    def parse(cls, stream: str) -> Direction | None:
        """The direction a ``stream`` value names, case-insensitively; None if neither."""
        try:
            return cls(stream.lower())
        except ValueError:
            return None


def float32(value: float) -> float:
    """``value`` rounded to the float32 the real server stores toxicity in, shortest form."""
    single: float = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return float(text)
    return single


def json_number(value: float) -> float | int:
    """Go writes integral floats without a fraction (``1``, not ``1.0``)."""
    return int(value) if value.is_integer() and abs(value) < 1e21 else value


@dataclass(frozen=True)
class ToxicSpec:
    """One toxic of a proxy. ``stream`` keeps the spelling it was created with."""

    name: str
    type: str
    stream: str
    direction: Direction
    toxicity: float
    toxic: Toxic

    def to_json(self) -> dict[str, object]:
        return {
            "attributes": self.toxic.attributes(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": json_number(self.toxicity),
        }
