"""ASTERIX through the real core: a radar's CAT-048 plots of an intruder, over UDP into
`cuas adapter-asterix`, come back out of `cuas gateway-asterix` as a CAT-062 system track that
an independent decoder (asterix-decoder) places where the intruder is."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from support import asterix_decoder
from support.live import Intruder, camp, core_running, listening, live_camp

from cuas.gateways.asterix import AsterixGateway
from sensors.asterix import adapter as asterix_adapter
from sensors.asterix.cat048 import Plot, encode


def test_cat048_plots_in_become_a_cat062_track_out(mosquitto, tmp_path):
    config = camp(live_camp(tmp_path, mosquitto.port))
    radar = config.sensor("radar-1")
    assert radar is not None
    frame = config.local_frame()
    seen_from = frame.sensor_frame(radar.lat, radar.lon, radar.alt_m)
    drone = Intruder(config)

    async def scenario() -> tuple[list[bytes], tuple[float, float]]:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c2,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as radar_out,
        ):
            c2.bind(("127.0.0.1", 0))
            c2.setblocking(False)
            async with core_running(config) as service, listening(mosquitto.port) as ops:
                await asyncio.wait_for(service.ready.wait(), 5)
                stop = asyncio.Event()
                ready = asyncio.get_running_loop().create_future()
                adapter_task = asyncio.create_task(
                    asterix_adapter.run(
                        radar,
                        config.zmq.ingest,
                        "127.0.0.1",
                        0,
                        sac=25,
                        sic=10,
                        stop=stop,
                        ready=lambda a, addr: ready.set_result((a, addr)),
                        scan_timeout_s=0.05,
                    )
                )
                adapter, address = await asyncio.wait_for(ready, 5)
                await asyncio.wait_for(adapter.publisher.wait_connected(), 5)
                gateway = AsterixGateway(config, *c2.getsockname())
                gateway_task = asyncio.create_task(gateway.run(stop))
                await asyncio.wait_for(gateway.following.wait(), 5)
                deadline = time.monotonic() + 20
                while not any(t.status == "confirmed" for c in ops.cycles for t in c.tracks):
                    assert time.monotonic() < deadline, "no confirmed track from CAT-048 plots"
                    t = time.time()
                    position, _ = drone.position(t)
                    az, _, rng = (float(x) for x in seen_from.enu_to_aer(position))
                    height = float(frame.to_geodetic(position)[2])
                    plot = Plot(25, 10, t % 86400.0, rng, az, height_m=height, mode3a="7000")
                    radar_out.sendto(encode([plot]), address)
                    await asyncio.sleep(0.1)
                loop = asyncio.get_running_loop()
                datagram = await asyncio.wait_for(loop.sock_recv(c2, 65536), 5)
                lat, lon, _ = frame.to_geodetic(drone.position(time.time())[0])
                stop.set()
                await adapter_task
                await gateway_task
                return [datagram], (float(lat), float(lon))

    datagrams, (lat, lon) = asyncio.run(scenario())
    [[record, *_]] = asterix_decoder.decode(datagrams)
    assert record["category"] == 62
    assert record["I080"]["TSB"]["val"] == 1  # the track's first record
    # Where the intruder is, give or take a second of flight and the radar's noise.
    assert record["I105"]["Lat"]["val"] == pytest.approx(lat, abs=5e-4)
    assert record["I105"]["Lon"]["val"] == pytest.approx(lon, abs=5e-4)
