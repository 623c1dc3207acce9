"""The demo's in-process broker (amqtt): real MQTT for aiomqtt clients, on loopback only."""

from __future__ import annotations

import asyncio
import socket

import aiomqtt
import psutil
import pytest
from support.broker import MosquittoBroker, free_port

from cuas.io.embedded_broker import EmbeddedBroker, EmbeddedBrokerError, broker_reachable

TIMEOUT_S = 5.0


def _listening_addresses(port: int) -> set[str]:
    """The local addresses this process listens on at `port`."""
    return {
        c.laddr.ip
        for c in psutil.Process().net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }


def test_a_retained_qos1_message_reaches_a_client_that_subscribes_later() -> None:
    async def scenario() -> aiomqtt.Message:
        async with EmbeddedBroker(port=0) as broker:
            async with aiomqtt.Client(broker.host, broker.port, timeout=TIMEOUT_S) as publisher:
                await publisher.publish("cuas/alpha/status", b'{"v":1}', qos=1, retain=True)
            async with aiomqtt.Client(broker.host, broker.port, timeout=TIMEOUT_S) as reader:
                await reader.subscribe("cuas/alpha/#", qos=1)
                async with asyncio.timeout(TIMEOUT_S):
                    return await anext(aiter(reader.messages))

    message = asyncio.run(scenario())
    assert message.topic.value == "cuas/alpha/status"
    assert message.payload == b'{"v":1}'
    assert message.retain and message.qos == 1


def test_a_live_subscriber_receives_each_publication() -> None:
    async def scenario() -> list[bytes]:
        async with (
            EmbeddedBroker(port=0) as broker,
            aiomqtt.Client(broker.host, broker.port, timeout=TIMEOUT_S) as reader,
            aiomqtt.Client(broker.host, broker.port, timeout=TIMEOUT_S) as writer,
        ):
            await reader.subscribe("cuas/alpha/events/alerts", qos=1)
            for n in range(3):
                await writer.publish("cuas/alpha/events/alerts", str(n).encode(), qos=1)
            received: list[bytes] = []
            async with asyncio.timeout(TIMEOUT_S):
                async for message in reader.messages:
                    received.append(bytes(message.payload))  # type: ignore[arg-type]
                    if len(received) == 3:
                        return received
            return received

    assert asyncio.run(scenario()) == [b"0", b"1", b"2"]


def test_it_listens_on_127_0_0_1_only() -> None:
    async def scenario() -> tuple[int, set[str]]:
        async with EmbeddedBroker(port=0) as broker:
            return broker.port, _listening_addresses(broker.port)

    port, addresses = asyncio.run(scenario())
    assert addresses == {"127.0.0.1"}
    assert _listening_addresses(port) == set()  # and stops listening on exit


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "::1", "localhost"])
def test_it_refuses_to_bind_anything_but_ipv4_loopback(host: str) -> None:
    with pytest.raises(ValueError, match=r"loopback|IP address"):
        EmbeddedBroker(host=host, port=0)


def test_mqtt_v5_clients_are_refused_so_the_service_must_speak_3_1_1() -> None:
    """aiomqtt's default is 3.1.1, which amqtt accepts; an explicit v5 client is turned away."""

    async def scenario() -> None:
        async with EmbeddedBroker(port=0) as broker:
            v5 = aiomqtt.ProtocolVersion.V5
            async with aiomqtt.Client(broker.host, broker.port, protocol=v5, timeout=TIMEOUT_S):
                pass

    with pytest.raises(aiomqtt.MqttError):
        asyncio.run(scenario())


def test_a_taken_port_is_a_clear_error() -> None:
    async def scenario(port: int) -> None:
        async with EmbeddedBroker(port=port):
            pass

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(EmbeddedBrokerError, match=f"127.0.0.1:{port}"):
            asyncio.run(scenario(port))


def test_reachable_is_true_for_the_embedded_broker_and_false_once_it_stops() -> None:
    async def scenario() -> tuple[bool, bool]:
        async with EmbeddedBroker(port=0) as broker:
            during = await broker_reachable(broker.host, broker.port, timeout=TIMEOUT_S)
        after = await broker_reachable(broker.host, broker.port, timeout=TIMEOUT_S)
        return during, after

    assert asyncio.run(scenario()) == (True, False)


def test_reachable_is_true_for_mosquitto(mosquitto: MosquittoBroker) -> None:
    assert asyncio.run(broker_reachable(mosquitto.host, mosquitto.port, timeout=TIMEOUT_S))


def test_reachable_is_false_for_a_closed_port() -> None:
    assert not asyncio.run(broker_reachable("127.0.0.1", free_port(), timeout=TIMEOUT_S))


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.1 400 Bad Request\r\n\r\n", None])
def test_reachable_is_false_for_a_port_that_does_not_speak_mqtt(reply: bytes | None) -> None:
    """A server that hangs up, answers in another protocol, or says nothing (None)."""

    async def scenario() -> bool:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                if reply is None:
                    await asyncio.sleep(TIMEOUT_S)
                writer.write(reply or b"")
            finally:
                writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            return await broker_reachable("127.0.0.1", port, timeout=0.3)

    assert not asyncio.run(scenario())
