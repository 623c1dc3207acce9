"""`cuas gateway-asterix`: the camp's tracks as ASTERIX CAT-062 system tracks over UDP.

    cuas gateway-asterix --config camp.toml --udp 239.1.2.3:8600     # or a unicast address

It follows the camp's MQTT output (`feed.follow`) and, for each track cycle, sends every
confirmed or coasting track as one CAT-062 record (at most 40 records, under 1,400 bytes, per
datagram), identified by `[asterix] sac` and `sic`. libasterix encodes it (edition pinned:
CAT-062 1.21); it silently wraps values that overflow an item, so every value is clamped
first.

Mapping, our track → the CAT-062 record:

| ours | CAT-062 item |
|---|---|
| `[asterix] sac`, `sic` | I062/010 SAC, SIC |
| (always 1) | I062/015 Service Identification |
| `t` (the cycle time), as UTC time of day | I062/070 Time of Track Information (1/128 s) |
| `lat`, `lon` | I062/105 WGS-84 position (180/2^25 °, ~0.6 m) |
| `alt_m` (WGS-84 height) | I062/130 geometric altitude (6.25 ft) |
| `vel_enu` east, north | I062/185 VX, VY (0.25 m/s) |
| `track_id` modulo 65536 | I062/040 Track Number |
| one sensor / several | I062/080 MON 1 / 0 (mono- or multi-sensor track) |
| first cycle the track is sent | I062/080 TSB 1 |
| deleted or gone from the cycle | I062/080 TSE 1 (its last message, last known state) |
| `coasting` | I062/080 CST 1 (no update this cycle: extrapolated) |
| `confirmed`/`coasting` only (tentatives are not sent) | I062/080 CNF 0 |
| `horiz_sigma_m` / sqrt 2 (older core: `pos_sigma_m`) | I062/500 APC X, Y (0.5 m) |
| `alt_sigma_m` (older core: `pos_sigma_m`) | I062/500 AGA (6.25 ft, at most 1,593.75 ft) |
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import math
import socket
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cuas.config import CampConfig, load_config
from cuas.gateways.feed import FeedStats, follow, run_until_signal
from cuas.io.mqtt_output import OutputMessage
from cuas.wire import Track, TrackCycle

log = logging.getLogger("cuas.gateways.asterix")

COMMAND = "gateway-asterix"
FT = 0.3048
RECORDS_PER_DATAGRAM = 40
SENT_STATUSES = frozenset({"confirmed", "coasting"})


@functools.cache
def cat062() -> Any:
    """libasterix's CAT-062 1.21, imported on first use (`asterix.generated` takes over a
    second: every `cuas` command would pay it, this module being a built-in command)."""
    import asterix.generated as gen

    return gen.Cat_062_1_21


def _clamp(x: float, low: float, high: float) -> float:
    return max(low, min(high, x))


@dataclass(frozen=True, slots=True)
class SystemTrack:
    """One CAT-062 record's worth of a track, in our units."""

    track_number: int
    tod_s: float
    lat: float
    lon: float
    alt_m: float
    vx: float
    vy: float
    mono: bool
    first: bool = False
    last: bool = False
    coasting: bool = False
    sigma_xy_m: float = 0.0  # each horizontal axis
    sigma_alt_m: float = 0.0

    @classmethod
    def of(cls, track: Track, *, first: bool = False, last: bool = False) -> SystemTrack:
        horizontal, vertical = track.sigmas()
        return cls(
            track_number=track.track_id % 65536,
            tod_s=track.t % 86400.0,
            lat=track.lat,
            lon=track.lon,
            alt_m=track.alt_m,
            vx=track.vel_enu[0],
            vy=track.vel_enu[1],
            mono=len(track.sensors) <= 1,
            first=first,
            last=last,
            coasting=track.status == "coasting",
            sigma_xy_m=horizontal / math.sqrt(2.0),
            sigma_alt_m=vertical,
        )


def record(t: SystemTrack, sac: int, sic: int) -> object:
    """The libasterix record of one system track, its values clamped to the items' ranges."""
    ext0 = (int(t.mono), 0, 0, 0, 0, None)  # MON SPI MRH SRC CNF (FX)
    ext1 = (0, int(t.last), int(t.first), 0, 0, 0, 0, None)  # SIM TSE TSB FPC AFF STP KOS
    ext2 = (0, 0, 0, 0, 0, None)  # AMA MD4 ME MI MD5
    ext3 = (int(t.coasting), 0, 0, 0, 0, 0, 0, None)  # CST PSR SSR MDS ADS SUC AAC
    return cat062().cv_record.create(
        {
            "010": (("SAC", sac), ("SIC", sic)),
            "015": 1,
            "070": (float(t.tod_s % 86400.0), "s"),
            "105": (
                ("LAT", (_clamp(t.lat, -90.0, 90.0), "°")),
                ("LON", (_clamp(t.lon, -180.0, 179.99999), "°")),
            ),
            "130": (_clamp(t.alt_m / FT, -1500.0, 204_000.0), "ft"),
            "185": (
                ("VX", (_clamp(t.vx, -8191.0, 8191.0), "m/s")),
                ("VY", (_clamp(t.vy, -8191.0, 8191.0), "m/s")),
            ),
            "040": int(t.track_number) % 65536,
            "080": (ext0, ext1, ext2, ext3),
            "500": {
                "APC": (
                    ("X", (_clamp(t.sigma_xy_m, 0.0, 32_767.5), "m")),
                    ("Y", (_clamp(t.sigma_xy_m, 0.0, 32_767.5), "m")),
                ),
                "AGA": (_clamp(t.sigma_alt_m / FT, 0.0, 1_593.75), "ft"),
            },
        }
    )


def encode(tracks: list[SystemTrack], sac: int, sic: int) -> list[bytes]:
    """Datagrams of one CAT-062 data block each, at most RECORDS_PER_DATAGRAM records."""
    out = []
    for i in range(0, len(tracks), RECORDS_PER_DATAGRAM):
        chunk = [record(t, sac, sic) for t in tracks[i : i + RECORDS_PER_DATAGRAM]]
        out.append(cat062().create(chunk).unparse().to_bytes())
    return out


class SystemTrackPicture:
    """Which system tracks a cycle sends: TSB on a track's first, TSE on its last message."""

    def __init__(self) -> None:
        self.sent: dict[int, Track] = {}

    def on_cycle(self, cycle: TrackCycle) -> list[SystemTrack]:
        out: list[SystemTrack] = []
        live: set[int] = set()
        for track in cycle.tracks:
            if track.status not in SENT_STATUSES:
                continue
            live.add(track.track_id)
            out.append(SystemTrack.of(track, first=track.track_id not in self.sent))
            self.sent[track.track_id] = track
        for track_id in [t for t in self.sent if t not in live]:
            out.append(SystemTrack.of(self.sent.pop(track_id), last=True))
        return out


class AsterixGateway:
    """The camp's track cycles in, CAT-062 datagrams out to `host:port`, until stopped."""

    def __init__(self, config: CampConfig, host: str, port: int) -> None:
        self.config = config
        self.target = (host, port)
        self.picture = SystemTrackPicture()
        cat062()  # libasterix's import (over a second) at start-up, not on the first cycle
        self.feed = FeedStats()
        self.following = asyncio.Event()
        self.counts: Counter[str] = Counter()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self.sock.setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, config.asterix.multicast_ttl
        )
        self.sock.setblocking(False)

    def handle(self, out: OutputMessage) -> None:
        if out.kind != "tracks":
            return
        tracks = self.picture.on_cycle(out.message)
        for datagram in encode(tracks, self.config.asterix.sac, self.config.asterix.sic):
            try:
                self.sock.sendto(datagram, self.target)
                self.counts["datagrams"] += 1
            except OSError as exc:  # a full buffer or an unreachable network: count, go on
                self.counts["send_errors"] += 1
                log.debug("UDP send to %s:%s failed: %s", *self.target, exc)
        self.counts["records"] += len(tracks)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await follow(self.config, self.handle, stop, stats=self.feed, connected=self.following)
        finally:
            self.sock.close()
            log.info("stopped: %s, feed rejects %s", dict(self.counts), dict(self.feed.rejects))


def add_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(COMMAND, help="send tracks as ASTERIX CAT-062 over UDP")
    parser.add_argument("--config", required=True, help="camp configuration (TOML)")
    parser.add_argument("--udp", required=True, metavar="HOST:PORT", help="where to send")
    parser.set_defaults(func=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    host, sep, port = args.udp.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        print(f"cuas {COMMAND}: expected --udp HOST:PORT, not {args.udp!r}", file=sys.stderr)
        return 2
    run_until_signal(AsterixGateway(config, host, int(port)).run)
    return 0
