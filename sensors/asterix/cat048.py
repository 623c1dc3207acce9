"""ASTERIX CAT-048 (monoradar target reports) decoded into plots, with libasterix.

The edition is pinned (CAT-048 1.32) so a libasterix upgrade never changes what we read;
`asterix.generated` takes about 1.3 s to import, so it is imported on first use (`cat048`).
Datagrams are read by a fast path (`_fast_block`: the FSPEC, the UAP's length rules, and the
seven items we use unpacked directly), which hands anything unexpected to libasterix; the
tests hold the two to the same plots, on our own encodings and on a real capture.

Mapping, the CAT-048 record → our `Plot` (→ the wire's radar detection):

| CAT-048 item | ours |
|---|---|
| I048/010 SAC, SIC | `sac`, `sic` (the adapter's `--sac/--sic` keep one radar's plots) |
| I048/140 time of day, 1/128 s | `tod_s` → the report's `t`, on the UTC date nearest the clock |
| I048/040 RHO 1/256 NM, THETA 360/2^16 ° | `range_m`, `az_deg` (THETA: clockwise from north) |
| I048/110 3D height 25 ft, else I048/090 FL | `height_m` → `el_deg` (neither: 0, sigma 30°) |
| I048/070 Mode-3/A, octal | `mode3a`: kept on the plot and logged (no wire field for it) |
| I048/020 TYP | `typ` (1 PSR, 2 SSR, 3 SSR+PSR, ...) |

A datagram may hold several data blocks; blocks of other categories are skipped (counted). A
datagram libasterix cannot parse, and a record without 010/140/040, is a `Cat048Error` with
a short reason for the reject counter: never an exception out of the adapter.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from cuas.errors import RejectError

NM = 1852.0
FT = 0.3048
MAX_RHO_NM = 255.99  # I048/040 RHO is 16 bits of 1/256 NM: larger values would wrap


@functools.cache
def cat048() -> Any:
    """libasterix's CAT-048 1.32, imported on first use: `asterix.generated` takes over a second
    to import, which every `cuas` command would pay if it were imported with this module."""
    import asterix.generated as gen

    return gen.Cat_048_1_32


class Cat048Error(RejectError):
    """A datagram or record that cannot be read; `reason` is a stable counter key."""


@dataclass(frozen=True, slots=True)
class Plot:
    """One CAT-048 target report, in our units."""

    sac: int
    sic: int
    tod_s: float
    range_m: float
    az_deg: float
    height_m: float | None = None  # 3D radar height or flight level, metres
    mode3a: str | None = None  # octal, e.g. "7000"
    typ: int | None = None


@dataclass
class Decoded:
    """What one datagram held: its plots and the reasons of the records that were refused."""

    plots: list[Plot]
    rejects: list[str]
    other_categories: int = 0


def decode(datagram: bytes) -> Decoded:
    """Every CAT-048 plot of `datagram`; `Cat048Error` when the datagram itself is unreadable."""
    if not datagram:
        raise Cat048Error("empty", "a datagram of 0 bytes")
    try:
        return _decode(datagram)
    except Cat048Error:
        raise
    except Exception as exc:  # libasterix on hostile bytes: its failure is ours to count
        raise Cat048Error("malformed", f"datagram of {len(datagram)} bytes: {exc!r}") from None


# CAT-048 1.32's UAP in FRN order: each item's length rule, for the fast path below.
# An int is a fixed length in octets; "fx": octets until one with its FX bit clear (020, 170,
# 030); "rep8": a repetition octet, then that many 8-octet blocks (250); "c130" and "c120":
# the two compound items; "exp": explicit length (SP, RE). tests/test_adapter_asterix.py
# checks the fixed lengths against libasterix's own specification of the edition.
UAP: tuple[tuple[str, int | str], ...] = (
    ("010", 2), ("140", 3), ("020", "fx"), ("040", 4), ("070", 2), ("090", 2), ("130", "c130"),
    ("220", 3), ("240", 6), ("250", "rep8"), ("161", 2), ("042", 4), ("200", 4), ("170", "fx"),
    ("210", 4), ("030", "fx"), ("080", 2), ("100", 4), ("110", 2), ("120", "c120"),
    ("230", 2), ("260", 7), ("055", 1), ("050", 2), ("065", 1), ("060", 2), ("SP", "exp"),
    ("RE", "exp"),
)  # fmt: skip


class _UnusualError(Exception):
    """The fast path met something it does not handle: libasterix decides instead."""


def _skip(body: bytes, i: int, rule: int | str) -> int:
    """The offset after an item starting at `i`."""
    if isinstance(rule, int):
        return i + rule
    if rule == "fx":
        while body[i] & 1:
            i += 1
        return i + 1
    if rule == "rep8":
        return i + 1 + 8 * body[i]
    if rule == "c130":
        primary = body[i]
        if primary & 1:
            raise _UnusualError("I048/130 primary subfield extended")
        return i + 1 + bin(primary >> 1).count("1")
    if rule == "c120":
        primary = body[i]
        if primary & 0x3F:
            raise _UnusualError("I048/120 subfields beyond CAL and RDS")
        i += 1
        if primary & 0x80:
            i += 2
        if primary & 0x40:
            i += 1 + 6 * body[i]
        return i
    if body[i] == 0:  # explicit: the length octet counts itself
        raise _UnusualError("explicit item of length 0")
    return i + body[i]


def _signed14(word: int) -> int:
    v = word & 0x3FFF
    return v - 0x4000 if v & 0x2000 else v


def _fast_block(body: bytes, out: Decoded) -> None:
    """The records of one CAT-048 data block, read directly for the items we use.

    libasterix parses every item of every record into objects (about 10k plots per
    CPU-second); this reads the FSPEC, skips what we do not use by the UAP's length rules,
    and unpacks the seven items we need: several times faster. Anything it does not expect
    raises `_UnusualError` (or IndexError) and the block goes to libasterix, whose result is the
    reference (the tests hold the two to the same plots).
    """
    i, n = 0, len(body)
    while i < n:
        present: dict[str, int] = {}
        frn = 0
        while True:
            octet = body[i]
            i += 1
            for bit in range(7):
                frn += 1
                if octet & (0x80 >> bit):
                    if frn > len(UAP):
                        raise _UnusualError(f"FRN {frn}")
                    name, rule = UAP[frn - 1]
                    present[name] = rule  # type: ignore[assignment]
            if not octet & 1:
                break
        offsets: dict[str, int] = {}
        for name, rule in UAP:
            if name in present:
                offsets[name] = i
                i = _skip(body, i, rule)
        if i > n:
            raise _UnusualError("record runs past its block")
        if not ("010" in offsets and "140" in offsets and "040" in offsets):
            out.rejects.append("missing_item")
            continue
        o = offsets["040"]
        rho = int.from_bytes(body[o : o + 2], "big") / 256.0
        theta = int.from_bytes(body[o + 2 : o + 4], "big") * (360.0 / 65536.0)
        if rho <= 0.0:
            out.rejects.append("bad_range")
            continue
        height_m: float | None = None
        if "110" in offsets:
            o = offsets["110"]
            height_m = _signed14(int.from_bytes(body[o : o + 2], "big")) * 25.0 * FT
        elif "090" in offsets:
            o = offsets["090"]
            height_m = _signed14(int.from_bytes(body[o : o + 2], "big")) * 25.0 * FT
        mode3a = None
        if "070" in offsets:
            o = offsets["070"]
            mode3a = f"{int.from_bytes(body[o : o + 2], 'big') & 0x0FFF:04o}"
        o = offsets["140"]
        out.plots.append(
            Plot(
                sac=body[offsets["010"]],
                sic=body[offsets["010"] + 1],
                tod_s=int.from_bytes(body[o : o + 3], "big") / 128.0,
                range_m=rho * NM,
                az_deg=theta % 360.0,
                height_m=height_m,
                mode3a=mode3a,
                typ=body[offsets["020"]] >> 5 if "020" in offsets else None,
            )
        )


def _decode(datagram: bytes) -> Decoded:
    """The fast path over each CAT-048 block; libasterix for the datagram if it balks."""
    out = Decoded([], [])
    off, n = 0, len(datagram)
    try:
        while off < n:
            length = int.from_bytes(datagram[off + 1 : off + 3], "big")
            if off + 3 > n or length < 3 or off + length > n:
                raise _UnusualError("data block length")
            if datagram[off] == 48:
                _fast_block(datagram[off + 3 : off + length], out)
            else:
                out.other_categories += 1
            off += length
        return out
    except (_UnusualError, IndexError):
        return _decode_libasterix(datagram)


def _decode_libasterix(datagram: bytes) -> Decoded:
    from asterix.base import Bits, RawDatablock

    Cat048 = cat048()
    blocks = RawDatablock.parse(Bits.from_bytes(datagram))
    if isinstance(blocks, ValueError):  # libasterix returns its errors
        raise Cat048Error("malformed", f"datagram of {len(datagram)} bytes: {blocks}")
    out = Decoded([], [])
    for block in blocks:
        if block.get_category() != 48:
            out.other_categories += 1
            continue
        records = Cat048.cv_uap.parse(block.get_raw_records())
        if isinstance(records, ValueError):
            raise Cat048Error("malformed", f"CAT-048 records: {records}")
        for record in records:
            try:
                out.plots.append(plot_of(record))
            except Cat048Error as exc:
                out.rejects.append(exc.reason)
    return out


def plot_of(record: object) -> Plot:
    i010, i140, i040 = (record.get_item(k) for k in ("010", "140", "040"))  # type: ignore[attr-defined]
    if i010 is None or i140 is None or i040 is None:
        raise Cat048Error("missing_item", "a record without I048/010, /140 or /040")
    height_m: float | None = None
    i110 = record.get_item("110")  # type: ignore[attr-defined]
    i090 = record.get_item("090")  # type: ignore[attr-defined]
    if i110 is not None:
        height_m = i110.variation.get_item("3DH").variation.content.as_quantity("ft") * FT
    elif i090 is not None:
        height_m = i090.variation.get_item("FL").variation.content.as_quantity("FL") * 100.0 * FT
    i070 = record.get_item("070")  # type: ignore[attr-defined]
    i020 = record.get_item("020")  # type: ignore[attr-defined]
    range_m = i040.variation.get_item("RHO").variation.content.as_quantity("NM") * NM
    az = i040.variation.get_item("THETA").variation.content.as_quantity("°") % 360.0
    if not (math.isfinite(range_m) and range_m > 0.0):
        raise Cat048Error("bad_range", f"range {range_m!r} m")
    return Plot(
        sac=i010.variation.get_item("SAC").as_uint(),
        sic=i010.variation.get_item("SIC").as_uint(),
        tod_s=i140.variation.content.as_quantity("s"),
        range_m=range_m,
        az_deg=az,
        height_m=height_m,
        mode3a=i070.variation.get_item("MODE3A").variation.content.as_string() if i070 else None,
        typ=i020.variation.get_item("TYP").as_uint() if i020 is not None else None,
    )


def encode(plots: list[Plot]) -> bytes:
    """One CAT-048 data block of `plots` (a radar's side: the tests and the benchmark use it).
    Values are clamped to what the items can carry: libasterix would wrap them silently."""
    Cat048 = cat048()
    records = []
    for p in plots:
        items: dict[str, object] = {
            "010": (("SAC", p.sac), ("SIC", p.sic)),
            "140": (float(p.tod_s % 86400.0), "s"),
            "020": (((p.typ or 1), 0, 0, 0, 0, None),),
            "040": (
                ("RHO", (min(p.range_m / NM, MAX_RHO_NM), "NM")),
                ("THETA", (p.az_deg % 360.0, "°")),
            ),
        }
        if p.height_m is not None:
            feet = max(-204_775.0, min(204_775.0, p.height_m / FT))
            items["110"] = (0, ("3DH", (feet, "ft")))
        if p.mode3a is not None:
            items["070"] = (0, 0, 0, 0, ("MODE3A", p.mode3a))
        records.append(Cat048.cv_record.create(items))
    return Cat048.create(records).unparse().to_bytes()
