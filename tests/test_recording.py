"""Specification tests for recording files (DESIGN.md, "Recordings and offline replay").

A recording is consecutive MessagePack arrays `[t_received, topic, payload]`. Files are also
built byte by byte with the independent `msgpack` package to check the reader on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuas.io.recording import Record, RecordingError, RecordingReader, RecordingWriter, read_records
from cuas.wire import (
    RadarDetection,
    RadarReport,
    RemoteIdDetection,
    RemoteIdReport,
    Status,
    decode_report,
    decode_status,
    to_msgpack,
)

RADAR = RadarReport(
    v=1,
    sensor_id="radar-1",
    seq=7,
    t=1764000000.25,
    detections=[
        RadarDetection(range_m=1234.5, az_deg=12.0, el_deg=3.0, class_probs={"drone": 0.9}),
        RadarDetection(range_m=800.0, az_deg=359.0, el_deg=-1.0, sigma_range_m=4.0),
    ],
)
RID = RemoteIdReport(
    v=1,
    sensor_id="rid-1",
    seq=3,
    t=1764000000.5,
    detections=[RemoteIdDetection(lat=8.651, lon=24.499, alt_m=700.0, uas_id="UN-PKO-0001")],
)
STATUS = Status(v=1, sensor_id="radar-1", t=1764000001.0, state="ok", detail="")


def record_bytes(t: Any, topic: Any, payload: Any) -> bytes:
    """One record framed by the independent codec (payload as a map, not as bytes)."""
    return msgpack.packb([t, topic, payload], use_bin_type=True)


def read_all(path: Path) -> tuple[list[Record], RecordingReader]:
    reader = RecordingReader(path)
    return list(reader), reader


def write_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- writer -> reader ------------------------------------------------------------------


def test_round_trip_of_struct_and_raw_payloads(tmp_path: Path) -> None:
    path = tmp_path / "rec.msgpack"
    with RecordingWriter(path) as w:
        w.write(1764000000.3, "report.radar-1", RADAR)  # a wire struct
        w.write(1764000000.6, "report.rid-1", to_msgpack(RID))  # raw MessagePack bytes
        w.write(1764000001.1, "status.radar-1", STATUS)
        w.write(1764000001.2, "status.radar-1", bytearray(to_msgpack(STATUS)))
        w.write(1764000002, "tracks", {"v": 1, "t": 1764000002.0, "tracks": []})  # plain data
        assert w.count == 5
    records, reader = read_all(path)
    assert [r.topic for r in records] == [
        "report.radar-1",
        "report.rid-1",
        "status.radar-1",
        "status.radar-1",
        "tracks",
    ]
    assert [r.t_received for r in records] == [
        1764000000.3,
        1764000000.6,
        1764000001.1,
        1764000001.2,
        1764000002.0,
    ]
    assert all(isinstance(r.t_received, float) for r in records)
    assert all(isinstance(r.payload, bytes) for r in records)
    assert decode_report(records[0].payload) == RADAR
    assert decode_report(records[1].payload) == RID
    assert records[1].payload == to_msgpack(RID)  # raw bytes are embedded verbatim
    assert decode_status(records[2].payload) == STATUS
    assert decode_status(records[3].payload) == STATUS
    assert msgpack.unpackb(records[4].payload) == {"v": 1, "t": 1764000002.0, "tracks": []}
    assert (reader.skipped, reader.truncated) == (0, False)


def test_file_is_plain_consecutive_msgpack_arrays(tmp_path: Path) -> None:
    """The format is the documented one: anyone with a MessagePack library can read it."""
    path = tmp_path / "rec.msgpack"
    with RecordingWriter(path) as w:
        w.write(10.5, "report.radar-1", RADAR)
        w.write(11.0, "report.rid-1", to_msgpack(RID))
    items = list(msgpack.Unpacker(open(path, "rb"), raw=False))  # noqa: SIM115
    assert len(items) == 2
    t, topic, payload = items[0]
    assert (t, topic) == (10.5, "report.radar-1")
    assert isinstance(payload, dict)  # the payload is a map, not a bin blob
    assert payload["kind"] == "radar" and payload["sensor_id"] == "radar-1"
    assert items[1][2] == msgpack.unpackb(to_msgpack(RID))


def test_reader_reads_files_from_other_writers(tmp_path: Path) -> None:
    data = record_bytes(1.0, "report.radar-1", msgpack.unpackb(to_msgpack(RADAR)))
    data += record_bytes(2, "status.radar-1", msgpack.unpackb(to_msgpack(STATUS)))
    records = list(read_records(write_file(tmp_path / "r", data)))
    assert [(r.t_received, r.topic) for r in records] == [
        (1.0, "report.radar-1"),
        (2.0, "status.radar-1"),
    ]
    assert decode_report(records[0].payload) == RADAR
    assert decode_status(records[1].payload) == STATUS


def test_order_is_preserved_not_sorted(tmp_path: Path) -> None:
    path = tmp_path / "rec.msgpack"
    times = [5.0, 1.0, 3.0, 3.0, 0.5, 9.0, 2.0]
    with RecordingWriter(path) as w:
        for i, t in enumerate(times):
            w.write(t, f"topic.{i}", {"i": i})
    records = list(read_records(path))
    assert [r.t_received for r in records] == times
    assert [msgpack.unpackb(r.payload)["i"] for r in records] == list(range(len(times)))


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.msgpack"
    with RecordingWriter(path):
        pass
    assert path.stat().st_size == 0
    records, reader = read_all(path)
    assert records == []
    assert (reader.skipped, reader.truncated) == (0, False)


def test_records_spanning_read_chunks(tmp_path: Path) -> None:
    """Several MiB of records with large payloads: offsets stay right across buffer refills."""
    path = tmp_path / "big.msgpack"
    payloads = [{"i": i, "blob": bytes([i % 256]) * (150_000 + 7919 * i)} for i in range(30)]
    with RecordingWriter(path) as w:
        for i, p in enumerate(payloads):
            w.write(float(i), f"t.{i}", p)
    assert path.stat().st_size > 3 * (1 << 20)
    records, reader = read_all(path)
    assert [msgpack.unpackb(r.payload) for r in records] == payloads
    assert [r.topic for r in records] == [f"t.{i}" for i in range(30)]
    assert (reader.skipped, reader.truncated) == (0, False)


def test_reader_can_be_iterated_while_writer_flushes(tmp_path: Path) -> None:
    path = tmp_path / "live.msgpack"
    w = RecordingWriter(path)
    w.write(1.0, "status.a", STATUS)
    w.flush()
    assert len(list(read_records(path))) == 1
    w.write(2.0, "status.a", STATUS)
    w.close()
    assert len(list(read_records(path))) == 2


_chars = st.characters(exclude_categories=("Cs",))
plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
    | st.text(_chars, max_size=10) | st.binary(max_size=10),
    lambda kids: st.lists(kids, max_size=3)
    | st.dictionaries(st.text(_chars, max_size=5), kids, max_size=3),
    max_leaves=6,
)  # fmt: skip
records_st = st.lists(
    st.tuples(
        st.floats(0.0, 1.0e11, allow_nan=False),
        st.text(_chars, max_size=20),
        st.dictionaries(st.text(_chars, max_size=8), plain, max_size=3),
        st.booleans(),  # write the payload as raw bytes?
    ),
    max_size=6,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recs=records_st)
def test_any_records_round_trip(
    tmp_path_factory: pytest.TempPathFactory, recs: list[tuple[float, str, dict[str, Any], bool]]
) -> None:
    path = tmp_path_factory.getbasetemp() / "any-records.msgpack"
    with RecordingWriter(path) as w:
        for t, topic, payload, raw in recs:
            w.write(t, topic, msgpack.packb(payload) if raw else payload)
    records, reader = read_all(path)
    assert [(r.t_received, r.topic) for r in records] == [(t, topic) for t, topic, _, _ in recs]
    assert [msgpack.unpackb(r.payload, raw=False) for r in records] == [p for _, _, p, _ in recs]
    assert (reader.skipped, reader.truncated) == (0, False)


# --- damaged files -----------------------------------------------------------------------


def test_truncated_tail_yields_complete_records(tmp_path: Path) -> None:
    """Cut the file at every byte: complete records come out, a partial tail sets `truncated`."""
    full = tmp_path / "full.msgpack"
    with RecordingWriter(full) as w:
        w.write(1.0, "report.radar-1", RADAR)
        w.write(2.0, "status.radar-1", STATUS)
        w.write(3.0, "report.rid-1", to_msgpack(RID))
    data = full.read_bytes()
    ends = [0]
    for r in read_records(full):
        ends.append(ends[-1] + len(record_bytes(r.t_received, r.topic, msgpack.unpackb(r.payload))))
    assert ends[-1] == len(data)
    cut_path = tmp_path / "cut.msgpack"
    for cut in range(len(data) + 1):
        records, reader = read_all(write_file(cut_path, data[:cut]))
        complete = sum(1 for e in ends[1:] if e <= cut)
        assert len(records) == complete, cut
        assert reader.truncated == (cut not in ends), cut
        assert reader.skipped == 0
    # the complete records are intact
    records, _ = read_all(write_file(cut_path, data[:-1]))
    assert decode_report(records[0].payload) == RADAR
    assert decode_status(records[1].payload) == STATUS


BAD_SHAPES = {
    "two-elements": [1.0, "report.radar-1"],
    "four-elements": [1.0, "report.radar-1", {"v": 1}, "extra"],
    "empty-array": [],
    "topic-int": [1.0, 42, {"v": 1}],
    "topic-bytes": [1.0, b"report.radar-1", {"v": 1}],
    "topic-nil": [1.0, None, {"v": 1}],
    "t-str": ["1.0", "report.radar-1", {"v": 1}],
    "t-nil": [None, "report.radar-1", {"v": 1}],
    "t-array": [[1.0], "report.radar-1", {"v": 1}],
}


@pytest.mark.parametrize("bad", BAD_SHAPES.values(), ids=BAD_SHAPES.keys())
def test_wrong_shape_record_is_skipped_and_counted(tmp_path: Path, bad: list[Any]) -> None:
    good = [record_bytes(float(i), f"status.s{i}", {"i": i}) for i in range(4)]
    wrong = msgpack.packb(bad, use_bin_type=True)
    data = good[0] + wrong + good[1] + good[2] + wrong + wrong + good[3]
    records, reader = read_all(write_file(tmp_path / "r", data))
    assert [r.topic for r in records] == ["status.s0", "status.s1", "status.s2", "status.s3"]
    assert [msgpack.unpackb(r.payload) for r in records] == [{"i": i} for i in range(4)]
    assert reader.skipped == 3
    assert reader.truncated is False


def test_wrong_shape_record_first_and_last(tmp_path: Path) -> None:
    wrong = msgpack.packb([1.0, 7, {}])
    data = wrong + record_bytes(1.0, "a", {}) + wrong
    records, reader = read_all(write_file(tmp_path / "r", data))
    assert [r.topic for r in records] == ["a"]
    assert reader.skipped == 2


@pytest.mark.parametrize(
    ("garbage", "name"),
    [(b"\xc1", "never-used byte"), (b"\xc1\xc1\xc1\xc1", "run of never-used bytes")],
)
def test_garbage_framing_raises_with_the_byte_offset(
    tmp_path: Path, garbage: bytes, name: str
) -> None:
    head = record_bytes(1.0, "status.a", {"x": 1}) + record_bytes(2.0, "status.b", {"y": [1, 2]})
    path = write_file(tmp_path / "r", head + garbage + record_bytes(3.0, "status.c", {}))
    reader = RecordingReader(path)
    got: list[Record] = []
    with pytest.raises(RecordingError) as info:
        for record in reader:
            got.append(record)
    assert [r.topic for r in got] == ["status.a", "status.b"]  # everything before is read
    assert str(len(head)) in str(info.value), name
    assert isinstance(info.value, ValueError)


def test_garbage_at_start_raises_with_offset_zero(tmp_path: Path) -> None:
    path = write_file(tmp_path / "r", b"\xc1" + record_bytes(1.0, "a", {}))
    with pytest.raises(RecordingError, match=r"\b0\b"):
        list(read_records(path))


def test_text_file_is_not_a_recording(tmp_path: Path) -> None:
    path = write_file(tmp_path / "camp.toml", b'camp_id = "alpha"\n')
    with pytest.raises(RecordingError, match=r"\b0\b"):
        list(read_records(path))


def test_garbage_inside_a_record_raises_with_the_record_offset(tmp_path: Path) -> None:
    head = record_bytes(1.0, "status.a", {"x": 1})
    corrupt = b"\x93\xcb" + b"\x00" * 8 + b"\xa1a" + b"\x81\xa1k\xc1"  # [0.0, "a", {"k": <bad>}]
    path = write_file(tmp_path / "r", head + corrupt)
    reader = RecordingReader(path)
    got: list[Record] = []
    with pytest.raises(RecordingError) as info:
        for record in reader:
            got.append(record)
    assert [r.topic for r in got] == ["status.a"]
    assert str(len(head)) in str(info.value)
