"""`cuas gateway-asterix`: the camp's track cycles from a real Mosquitto become ASTERIX CAT-062
datagrams on a real UDP socket, read back by an independent decoder (asterix-decoder)."""

from __future__ import annotations

import asyncio
import socket

import aiomqtt
import msgspec
import pytest
from support import asterix_decoder
from support.live import camp, live_camp

from cuas import wire
from cuas.gateways.asterix import AsterixGateway, SystemTrack, encode
from cuas.topics import Topics
from cuas.wire import Track, TrackCycle

T0 = 1_764_590_400.25  # 2025-12-01T12:00:00.25Z


def track(track_id: int, t: float, **changes: object) -> Track:
    base = Track(
        track_id=track_id,
        t=t,
        status="confirmed",
        lat=8.6512345,
        lon=24.5023456,
        alt_m=680.0,
        enu=[0.0, 0.0, 80.0],
        vel_enu=[-12.5, 3.25, 0.0],
        pos_sigma_m=9.0,
        class_="drone",
        class_probs={"drone": 0.9},
        threat="medium",
        sensors=["radar-1", "cam-nw"],
        friendly=False,
        uas_id=None,
        t_update=t,
    )
    return msgspec.structs.replace(base, **changes)


def test_an_independent_decoder_reads_our_system_tracks_field_by_field():
    tracks = [
        SystemTrack.of(track(17, T0), first=True),
        SystemTrack.of(track(70_001, T0, status="coasting", sensors=["radar-1"])),
        SystemTrack.of(track(18, T0, vel_enu=[10_000.0, -9_000.0, 0.0]), last=True),
    ]
    [records] = asterix_decoder.decode(encode(tracks, sac=7, sic=42))
    first, coasting, fast = records
    assert all(r["category"] == 62 for r in records)
    assert (first["I010"]["SAC"]["val"], first["I010"]["SIC"]["val"]) == (7, 42)
    assert first["I040"]["TrkN"]["val"] == 17
    assert first["I070"]["ToT"]["val"] == pytest.approx(43200.25)
    assert first["I105"]["Lat"]["val"] == pytest.approx(8.6512345, abs=3e-6)
    assert first["I105"]["Lon"]["val"] == pytest.approx(24.5023456, abs=3e-6)
    assert first["I185"]["Vx"]["val"] == pytest.approx(-12.5)
    assert first["I185"]["Vy"]["val"] == pytest.approx(3.25)
    assert first["I130"]["Alt"]["val"] == pytest.approx(680.0 / 0.3048, abs=6.25)
    assert (first["I080"]["MON"]["val"], first["I080"]["TSB"]["val"]) == (0, 1)
    assert first["I080"]["CNF"]["val"] == 0
    assert coasting["I040"]["TrkN"]["val"] == 70_001 % 65536
    assert (coasting["I080"]["CST"]["val"], coasting["I080"]["MON"]["val"]) == (1, 1)
    # Out of range: clamped to the item's limit, never wrapped round to a wrong sign.
    assert fast["I185"]["Vx"]["val"] == pytest.approx(8191.0)
    assert fast["I185"]["Vy"]["val"] == pytest.approx(-8191.0)
    assert fast["I080"]["TSE"]["val"] == 1


def test_the_accuracies_are_the_track_s_horizontal_and_vertical_sigmas():
    """I062/500: APC the standard deviation on each horizontal axis (0.5 m), AGA the height's
    (6.25 ft): a bearings-only track known to 34 m across and guessed in height says so, one
    vaguer than AGA can carry says as much as it can, and a track from a core older than the
    split gives its 3-D sigma for both."""
    tracks = [
        SystemTrack.of(track(1, T0, pos_sigma_m=153.8, horiz_sigma_m=34.0, alt_sigma_m=150.0)),
        SystemTrack.of(track(2, T0, pos_sigma_m=900.0, horiz_sigma_m=300.0, alt_sigma_m=848.5)),
        SystemTrack.of(track(3, T0)),  # pos_sigma_m 9 m, no split
    ]
    [records] = asterix_decoder.decode(encode(tracks, sac=7, sic=42))
    accuracy = [r["I500"] for r in records]
    assert accuracy[0]["APC"]["APC_X"]["val"] == pytest.approx(34.0 / 2**0.5, abs=0.25)
    assert accuracy[0]["APC"]["APC_Y"]["val"] == pytest.approx(34.0 / 2**0.5, abs=0.25)
    assert accuracy[0]["AGA"]["AGA_Acc"]["val"] == pytest.approx(150.0 / 0.3048, abs=3.2)
    assert accuracy[1]["AGA"]["AGA_Acc"]["val"] == pytest.approx(1593.75)
    assert accuracy[2]["APC"]["APC_X"]["val"] == pytest.approx(9.0 / 2**0.5, abs=0.25)
    assert accuracy[2]["AGA"]["AGA_Acc"]["val"] == pytest.approx(9.0 / 0.3048, abs=3.2)


def test_tracks_from_the_broker_go_out_as_cat062_with_first_and_last_flags(mosquitto, tmp_path):
    path = live_camp(tmp_path, mosquitto.port)
    text = path.read_text().replace("sac = 0 ", "sac = 25 ")
    path.write_text(text.replace("sic = 1 ", "sic = 200 "))
    config = camp(path)
    topics = Topics(config.mqtt_prefix)
    cycles = [
        TrackCycle(v=1, t=T0, tracks=[track(3, T0), track(4, T0, status="tentative")]),
        TrackCycle(v=1, t=T0 + 1, tracks=[track(3, T0 + 1), track(5, T0 + 1)]),
        TrackCycle(v=1, t=T0 + 2, tracks=[track(5, T0 + 2, status="deleted")]),
    ]

    async def scenario() -> list[bytes]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
            receiver.bind(("127.0.0.1", 0))
            receiver.setblocking(False)
            gateway = AsterixGateway(config, *receiver.getsockname())
            stop = asyncio.Event()
            running = asyncio.create_task(gateway.run(stop))
            await asyncio.wait_for(gateway.following.wait(), 5)
            async with aiomqtt.Client("127.0.0.1", mosquitto.port) as core:
                await core.publish(topics.tracks, b"{not json", qos=1)  # counted, harmless
                for cycle in cycles:
                    await core.publish(topics.tracks, wire.to_json(cycle), qos=1)
            loop = asyncio.get_running_loop()
            datagrams = []
            for _ in range(3):
                datagrams.append(await asyncio.wait_for(loop.sock_recv(receiver, 65536), 5))
            stop.set()
            await running
            assert gateway.feed.rejects  # the bad payload, counted by reason
            return datagrams

    decoded = asterix_decoder.decode(asyncio.run(scenario()))
    seen = [
        sorted(
            (r["I040"]["TrkN"]["val"], r["I080"]["TSB"]["val"], r["I080"]["TSE"]["val"]) for r in d
        )
        for d in decoded
    ]
    # Tentatives are not sent; a track's first record says TSB, its last (deleted) says TSE.
    assert seen == [[(3, 1, 0)], [(3, 0, 0), (5, 1, 0)], [(3, 0, 1), (5, 0, 1)]]
    assert {r["I010"]["SIC"]["val"] for d in decoded for r in d} == {200}
