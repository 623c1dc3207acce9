"""The ingest socket's part in the live core's reorder clock (cuas/io/ingest_socket.py): the
core may release up to "now" only while its ingest waits with nothing arrived; otherwise up
to the start of its last drain that emptied the socket. Real ZeroMQ sockets."""

from __future__ import annotations

import asyncio
import time

import zmq
import zmq.asyncio

from cuas.io.ingest_socket import IngestSocket


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
