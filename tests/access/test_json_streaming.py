"""The JSON readers stream their files: an item at a time, never the whole file in memory."""

import io
import json
import random
import tracemalloc

import pytest

from facility_log.services import access_formats
from facility_log.services.access_formats import (
    FormatError,
    _JsonStream,
    read_gallagher_json,
    read_kisi_json,
)


def _items(rng: random.Random, count: int) -> list[dict]:
    return [
        {
            "uuid": f"u{i}",
            "n": rng.random() * 10 ** rng.randint(0, 12),
            "s": 'é\n"x' * rng.randint(0, 3),
            "nested": [1, 2, {"a": None, "b": True}],
        }
        for i in range(count)
    ]


@pytest.mark.parametrize("block", [1, 2, 3, 7, 4096])
def test_streamed_items_equal_what_json_loads_reads(monkeypatch, block):
    monkeypatch.setattr(_JsonStream, "BLOCK", block)
    rng = random.Random(block)
    for _ in range(20):
        items = _items(rng, rng.randint(0, 5))
        indent = rng.choice([None, 1])
        text = json.dumps(items, indent=indent)
        assert list(_JsonStream(io.StringIO(text)).array("x")) == items
        page = json.dumps({"next": {"href": "x"}, "events": items, "z": [1]}, indent=indent)
        assert list(_JsonStream(io.StringIO(page)).member_array("events", "x")) == items


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the input is empty"),
        ("nope", "Not valid JSON"),
        ("{}", "Expected"),
        ("[1,", "Not valid JSON"),
        ("[1 2]", "expected a comma or ]"),
        ("[1] x", "extra data"),
        ('{"events": 3}', "Expected"),
        ('{"a": 1}', "Expected"),
        ("[{}, ]", "Not valid JSON"),
    ],
)
def test_bad_json_is_named(text, message):
    with pytest.raises(FormatError, match=message):
        list(_JsonStream(io.StringIO(text)).array("Expected an array"))
    with pytest.raises(FormatError):
        list(_JsonStream(io.StringIO(text)).member_array("events", "Expected a page"))


def test_an_error_names_its_line(monkeypatch):
    monkeypatch.setattr(_JsonStream, "BLOCK", 5)
    text = '[\n{"a": 1},\n{"a": 2},\n{"a": oops}\n]'
    with pytest.raises(FormatError) as raised:
        list(_JsonStream(io.StringIO(text)).array("x"))
    assert raised.value.line == 4


def _kisi_file(count: int) -> io.BytesIO:
    body = ",\n".join(
        json.dumps(
            {
                "uuid": f"00000000-0000-4000-8000-{i:012d}",
                "type": "lock.unlock",
                "object_id": "D-MAIN",
                "created_at": "2026-03-28T22:00:00Z",
                "success": True,
                "actor_name": f"Holder {i}",
            }
        )
        for i in range(count)
    )
    return io.BytesIO(f"[\n{body}\n]".encode())


def _gallagher_file(count: int) -> io.BytesIO:
    events = ",".join(
        json.dumps({"id": str(i), "time": "2026-03-28T22:00:00Z", "type": {"name": "Duress"}})
        for i in range(count)
    )
    return io.BytesIO(f'{{"events": [{events}], "next": {{"href": "x"}}}}'.encode())


def _peak_while_reading(reader, binary) -> int:
    tracemalloc.start()
    try:
        count = sum(1 for _ in reader(access_formats.open_text(binary)))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("reader", "make"), [(read_kisi_json, _kisi_file), (read_gallagher_json, _gallagher_file)]
)
def test_reading_a_file_ten_times_larger_takes_no_more_memory(reader, make):
    small, large = make(2_000), make(20_000)
    count_small, peak_small = _peak_while_reading(reader, small)
    count_large, peak_large = _peak_while_reading(reader, large)
    assert (count_small, count_large) == (2_000, 20_000)
    # json.load of the large file would take well over ten times the small one's peak.
    assert peak_large < 2 * peak_small + 200_000


def test_a_binary_stream_is_read_as_utf8_even_when_a_block_splits_a_character(monkeypatch):
    monkeypatch.setattr(_JsonStream, "BLOCK", 1)
    items = [{"cardholder": "Zoë Ångström"}, {"cardholder": "李"}]
    binary = io.BytesIO(json.dumps(items, ensure_ascii=False).encode())
    assert list(_JsonStream(binary).array("x")) == items
