"""The ingest socket's part in the live core's reorder clock (cuas/io/ingest_socket.py): the
core may release up to "now" only while its ingest waits with nothing arrived; otherwise up
to the start of its last drain that emptied the socket, once all that drain read is held in
the reorder window (cuas/service/run.py). Real ZeroMQ sockets, a real Mosquitto."""

from __future__ import annotations

import asyncio
import time

import msgspec
import numpy as np
import zmq
import zmq.asyncio
from support.live import camp, core_running, eventually, live_camp

from cuas import wire
from cuas.io.ingest_socket import IngestSocket
from simulators.radar import SimulatedRadar


def test_the_socket_tells_whether_messages_may_be_unread_without_swallowing_a_wakeup() -> None:
    async def scenario() -> None:
        ctx = zmq.asyncio.Context()
        ingest = IngestSocket("tcp://127.0.0.1:*", ctx)
        pub = ctx.socket(zmq.PUB)
        pub.connect(ingest.bound)
        try:
            assert ingest.waiting()  # nobody watches the socket: anything may be in it
            waiter = asyncio.create_task(ingest.wait())
            await asyncio.sleep(0.05)
            assert not waiter.done() and not ingest.waiting()  # watched, nothing arrived
            # Publish until the wait ends (the first messages may go before the connection),
            # asking `waiting` all the while: a look at an edge-triggered ZeroMQ descriptor
            # from outside would swallow the wakeup, and the wait would never end.
            sent = 0
            while not waiter.done():
                await pub.send_multipart([b"report.radar-1", b"x"])
                sent += 1
                for _ in range(20):
                    ingest.waiting()
                    await asyncio.sleep(0.001)
                assert sent < 2000, "the wait never woke"
            await waiter
            assert ingest.waiting()  # arrived, not yet drained
            batch = ingest.drain()
            assert batch and all(m == ("report.radar-1", b"x") for m in batch)
            assert ingest.emptied  # the drain found the socket empty: all is in hand
        finally:
            pub.close(0)
            ingest.close()
            ctx.term()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_wait_with_messages_already_queued_ends_at_once_and_says_so() -> None:
    """pyzmq's asyncio poll was done only two turns of the loop after it began, even with
    messages queued; meanwhile the reorder clock took the unread socket for an empty one."""

    async def scenario() -> None:
        ctx = zmq.asyncio.Context()
        ingest = IngestSocket("tcp://127.0.0.1:*", ctx)
        pub = zmq.Context.instance().socket(zmq.PUB)
        pub.connect(ingest.bound)
        try:
            waiter = asyncio.create_task(ingest.wait())  # subscribes the publisher
            while not waiter.done():
                pub.send_multipart([b"report.radar-1", b"x"])
                await asyncio.sleep(0.01)
            ingest.drain()
            pub.send_multipart([b"report.radar-1", b"y"])
            pub.send_multipart([b"report.radar-1", b"z"])
            await asyncio.sleep(0.1)  # both are queued now
            wait = ingest.wait()
            try:
                wait.send(None)  # the coroutine's first step: it must end without suspending
            except StopIteration:
                pass
            else:
                raise AssertionError("wait suspended with messages queued")
            assert not ingest.idle  # it found messages waiting: the core is busy
            assert ingest.waiting()
            assert [m for _, m in ingest.drain()] == [b"y", b"z"] and ingest.emptied
        finally:
            pub.close(0)
            ingest.close()
            ctx.term()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_waiting_sees_a_message_the_loop_has_not_yet_noticed_and_ends_the_wait() -> None:
    async def scenario() -> None:
        ctx = zmq.asyncio.Context()
        ingest = IngestSocket("tcp://127.0.0.1:*", ctx)
        pub = zmq.Context.instance().socket(zmq.PUB)
        pub.connect(ingest.bound)
        try:
            waiter = asyncio.create_task(ingest.wait())
            while not waiter.done():
                pub.send_multipart([b"report.radar-1", b"x"])
                await asyncio.sleep(0.01)
            ingest.drain()
            waiter = asyncio.create_task(ingest.wait())
            await asyncio.sleep(0.01)
            assert not ingest.waiting() and ingest.idle
            pub.send_multipart([b"report.radar-1", b"y"])
            time.sleep(0.1)  # arrived while the loop is busy: its reader has not run
            assert ingest.waiting()  # looked at the socket, and ended the wait itself
            await asyncio.wait_for(waiter, 1)
            assert [m for _, m in ingest.drain()] == [b"y"]
        finally:
            pub.close(0)
            ingest.close()
            ctx.term()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_backlog_read_in_one_drain_is_fused_in_order_none_of_it_late(mosquitto, tmp_path):
    """A core that falls behind reads a second of reports in one drain: they are all held in
    the reorder window before its clock moves, so none falls behind a cycle the clock emits
    while the rest are fused (they were fused late, by retrodiction, one after the other), and
    it spends nothing on track updates until it has caught up."""
    config = camp(live_camp(tmp_path, mosquitto.port))
    sensor = config.sensor("radar-1")
    assert sensor is not None
    radar = SimulatedRadar.from_camp(
        sensor, config.local_frame(), np.random.default_rng(5), p_detection=1.0, clutter_per_scan=0
    )
    drone = np.array([[500.0, 500.0, 80.0]])

    def report(seq: int) -> list[bytes]:
        scan = radar.scan(time.time(), drone, np.zeros((1, 3)))
        scan = msgspec.structs.replace(scan, seq=seq)
        return [b"report.radar-1", wire.to_msgpack(scan)]

    async def scenario() -> None:
        pub = zmq.Context.instance().socket(zmq.PUB)
        async with core_running(config) as service:
            await asyncio.wait_for(service.ready.wait(), 5)
            pub.connect(config.zmq.ingest)
            seq = 0
            while service.pipeline.ingest.sensors["radar-1"].reports == 0:  # subscribed
                pub.send_multipart(report(seq))
                seq += 1
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            stats, pipeline = service.pipeline.ingest.sensors["radar-1"], service.pipeline
            before, updates, cycles = stats.reports, pipeline.updates, pipeline.cycles
            # The core's loop is held up for 1.2 s while the radar goes on at 10 Hz.
            for _ in range(12):
                pub.send_multipart(report(seq))
                seq += 1
                time.sleep(0.1)
            await eventually(
                lambda: stats.reports == before + 12 and not len(pipeline.reorder), 5, "all fused"
            )
            assert pipeline.late_fused == 0 and pipeline.late == 0
            # Behind by a second of reports, the core hands out no update of its own until it
            # has fused them all (then one); each cycle still carries the scans before it.
            await asyncio.sleep(0.3)
            assert pipeline.updates - updates <= pipeline.cycles - cycles + 1
        pub.close(0)

    asyncio.run(asyncio.wait_for(scenario(), 60))
