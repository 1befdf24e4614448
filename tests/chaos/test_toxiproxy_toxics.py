"""Units of the embedded Toxiproxy: toxics, pipes, request decoding, addresses."""

from __future__ import annotations

import asyncio
import random
import socket

import pytest

from duetime.chaos.toxiproxy.addresses import canonical_listen, open_listener, split_host_port
from duetime.chaos.toxiproxy.errors import ApiError
from duetime.chaos.toxiproxy.pipe import Chunk, Pipe
from duetime.chaos.toxiproxy.schema import decode_json, populate_inputs, toxic_input
from duetime.chaos.toxiproxy.spec import Direction, float32, json_number
from duetime.chaos.toxiproxy.toxics import TOXIC_TYPES, Latency, LimitData, Slicer


def test_every_real_toxic_type_is_registered() -> None:
    expected = {
        "latency",
        "bandwidth",
        "slow_close",
        "timeout",
        "reset_peer",
        "slicer",
        "limit_data",
        "noop",
    }
    assert set(TOXIC_TYPES) == expected
    assert all(cls.type_name == name for name, cls in TOXIC_TYPES.items())


def test_attributes_default_merge_and_ignore_unknown_keys() -> None:
    base = Latency.from_attributes({"latency": 100, "jitter": 10, "colour": "red"})
    assert base == Latency(latency=100, jitter=10)
    assert Latency.from_attributes({"LATENCY": 200}, base=base) == Latency(200, 10)
    assert Latency.from_attributes({"latency": None}, base=base) == base
    assert Latency.from_attributes(None) == Latency(0, 0)
    assert TOXIC_TYPES["slicer"].from_attributes({}).attributes() == {
        "average_size": 0,
        "size_variation": 0,
        "delay": 0,
    }


@pytest.mark.parametrize("bad", ["100", 1.5, True, [1], 2**63])
def test_attributes_must_be_integers(bad: object) -> None:
    with pytest.raises(ValueError):
        Latency.from_attributes({"latency": bad})


def test_attributes_must_be_an_object() -> None:
    with pytest.raises(ValueError):
        LimitData.from_attributes([1, 2])


def test_latency_jitter_stays_in_range() -> None:
    rng = random.Random(7)
    toxic = Latency(latency=100, jitter=20)
    delays = {toxic.delay_ms(rng) for _ in range(2000)}
    assert min(delays) >= 80 and max(delays) < 120
    assert len(delays) > 30


@pytest.mark.parametrize(
    ("size", "average", "variation"),
    [(1000, 50, 10), (1000, 50, 0), (7, 100, 5), (300, 0, 0), (500, 10, 400)],
)
def test_slicer_covers_the_chunk(size: int, average: int, variation: int) -> None:
    sizes = Slicer(average, variation).slice_sizes(size, random.Random(3))
    assert sum(sizes) == size
    assert all(s > 0 for s in sizes)
    assert all(s <= max(average + variation, 1) for s in sizes)


def test_slicer_varies_its_slices() -> None:
    sizes = Slicer(50, 10).slice_sizes(10_000, random.Random(1))
    assert len(sizes) > 100 and len(set(sizes)) > 3


def test_pipe_backpressure_end_and_abandon() -> None:
    async def scenario() -> None:
        pipe = Pipe(capacity=2)
        await pipe.put(Chunk(b"a", 0.0))
        await pipe.put(Chunk(b"b", 0.0))
        blocked = asyncio.ensure_future(pipe.put(Chunk(b"c", 0.0)))
        await asyncio.sleep(0.01)
        assert not blocked.done()
        first = await pipe.get()
        assert first is not None and first.data == b"a"
        await asyncio.wait_for(blocked, 1)
        pipe.finish()
        assert [(await pipe.get()), (await pipe.get())] == [Chunk(b"b", 0.0), Chunk(b"c", 0.0)]
        assert await pipe.get() is None
        assert await pipe.get() is None

        gone = Pipe(capacity=1)
        await gone.put(Chunk(b"x", 0.0))
        waiting = asyncio.ensure_future(gone.put(Chunk(b"y", 0.0)))
        await asyncio.sleep(0.01)
        gone.abandon()
        await asyncio.wait_for(waiting, 1)
        assert gone.take_all() == []

    asyncio.run(scenario())


def test_toxicity_is_stored_as_float32_and_written_like_go() -> None:
    assert float32(0.1) == 0.1
    assert float32(0.123456789) == 0.12345679
    assert json_number(float32(1.0)) == 1 and isinstance(json_number(1.0), int)
    assert json_number(0.5) == 0.5


def test_stream_names_parse_case_insensitively() -> None:
    assert Direction.parse("UpStream") is Direction.UPSTREAM
    assert Direction.parse("downstream") is Direction.DOWNSTREAM
    assert Direction.parse("") is None


def test_json_bodies_decode_like_go() -> None:
    assert decode_json(b' {"a": 1} trailing junk') == {"a": 1}
    for bad in (b"", b"   ", b"{", b"NaN", b"\xff"):
        with pytest.raises(ApiError) as caught:
            decode_json(bad)
        assert caught.value.status == 400


def test_toxic_bodies_default_and_reject_wrong_types() -> None:
    parsed = toxic_input({"Type": "latency", "stream": None})
    assert (parsed.type, parsed.stream, parsed.toxicity, parsed.name) == (
        "latency",
        "downstream",
        1.0,
        "",
    )
    for bad in ({"type": 1}, {"toxicity": "high"}, {"attributes": 3}, [1]):
        with pytest.raises(ApiError):
            toxic_input(bad)


def test_populate_bodies_need_name_and_upstream() -> None:
    (only,) = populate_inputs([{"name": "a", "upstream": "x:1"}])
    assert only.enabled is True
    with pytest.raises(ApiError, match="upstream at proxy 2"):
        populate_inputs([{"name": "a", "upstream": "x:1"}, {"name": "b"}])
    with pytest.raises(ApiError):
        populate_inputs({"name": "a"})


def test_addresses_split_like_go() -> None:
    assert split_host_port("127.0.0.1:80") == ("127.0.0.1", "80")
    assert split_host_port("[::1]:80") == ("::1", "80")
    assert split_host_port(":0") == ("", "0")
    for bad in ("localhost", "::1:80", "[::1]80"):
        with pytest.raises(ValueError):
            split_host_port(bad)


def test_listeners_report_what_they_bound() -> None:
    sock, bound = open_listener("localhost:0")
    with sock:
        assert bound == f"127.0.0.1:{sock.getsockname()[1]}"
    assert canonical_listen("localhost:1234") == "127.0.0.1:1234"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="address already in use"):
            open_listener(f"127.0.0.1:{taken.getsockname()[1]}")
    with pytest.raises(OSError, match="missing port"):
        open_listener("localhost")
