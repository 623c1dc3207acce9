"""The Mosquitto test helper: a real broker the test can start, stop, kill and restart."""

from __future__ import annotations

import asyncio

import aiomqtt
from support.broker import MakeBroker, MosquittoBroker, port_open

TIMEOUT_S = 5.0


async def _publish(broker: MosquittoBroker, topic: str, payload: bytes, **kwargs: object) -> None:
    async with aiomqtt.Client(broker.host, broker.port, timeout=TIMEOUT_S) as client:
        await client.publish(topic, payload, **kwargs)  # type: ignore[arg-type]


async def _first_message(broker: MosquittoBroker, topic: str) -> aiomqtt.Message:
    async with aiomqtt.Client(broker.host, broker.port, timeout=TIMEOUT_S) as client:
        await client.subscribe(topic, qos=1)
        async with asyncio.timeout(TIMEOUT_S):
            return await anext(aiter(client.messages))


async def _nothing_retained(broker: MosquittoBroker, topic: str, wait_s: float = 0.3) -> bool:
    async with aiomqtt.Client(broker.host, broker.port, timeout=TIMEOUT_S) as client:
        await client.subscribe(topic, qos=1)
        try:
            async with asyncio.timeout(wait_s):
                await anext(aiter(client.messages))
        except TimeoutError:
            return True
        return False


def test_the_fixture_gives_a_running_broker_on_loopback(mosquitto: MosquittoBroker) -> None:
    assert mosquitto.running
    assert mosquitto.host == "127.0.0.1"
    assert port_open(mosquitto.host, mosquitto.port)
    config = mosquitto.config_path.read_text()
    assert f"listener {mosquitto.port} 127.0.0.1" in config
    assert "persistence false" in config


def test_a_subscriber_receives_what_a_publisher_sends(mosquitto: MosquittoBroker) -> None:
    async def scenario() -> aiomqtt.Message:
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, timeout=TIMEOUT_S) as sub:
            await sub.subscribe("test/#", qos=1)
            await _publish(mosquitto, "test/hello", b'{"v": 1}', qos=1)
            async with asyncio.timeout(TIMEOUT_S):
                return await anext(aiter(sub.messages))

    message = asyncio.run(scenario())
    assert message.topic.value == "test/hello"
    assert message.payload == b'{"v": 1}'


def test_stop_closes_the_port_and_start_reopens_the_same_port(mosquitto: MosquittoBroker) -> None:
    port = mosquitto.port
    mosquitto.stop()
    assert not mosquitto.running
    assert not port_open(mosquitto.host, port)

    mosquitto.start()
    assert mosquitto.running
    assert mosquitto.port == port
    assert asyncio.run(_nothing_retained(mosquitto, "test/#"))


def test_kill_ends_the_broker_abruptly_and_it_can_come_back(mosquitto: MosquittoBroker) -> None:
    mosquitto.kill()
    assert not mosquitto.running
    assert not port_open(mosquitto.host, mosquitto.port)
    mosquitto.start()
    assert port_open(mosquitto.host, mosquitto.port)


def test_without_persistence_a_restart_forgets_retained_messages(
    mosquitto: MosquittoBroker,
) -> None:
    asyncio.run(_publish(mosquitto, "test/state", b"on", qos=1, retain=True))
    mosquitto.stop()
    mosquitto.start()
    assert asyncio.run(_nothing_retained(mosquitto, "test/state"))


def test_with_persistence_a_retained_message_survives_a_restart(
    make_mosquitto: MakeBroker,
) -> None:
    broker = make_mosquitto(persistence=True)
    asyncio.run(_publish(broker, "test/state", b"on", qos=1, retain=True))
    broker.stop()
    broker.start()

    message = asyncio.run(_first_message(broker, "test/state"))
    assert message.payload == b"on"
    assert message.retain


def test_with_persistence_a_queued_qos1_message_survives_a_restart(
    make_mosquitto: MakeBroker,
) -> None:
    """A persistent session's QoS 1 queue outlives the broker: the outage tests rely on it."""
    broker = make_mosquitto(persistence=True)

    async def subscribe_then_leave() -> None:
        async with aiomqtt.Client(
            broker.host, broker.port, identifier="sleeper", clean_session=False
        ) as client:
            await client.subscribe("test/queue", qos=1)

    async def come_back() -> aiomqtt.Message:
        async with aiomqtt.Client(
            broker.host, broker.port, identifier="sleeper", clean_session=False
        ) as client:
            async with asyncio.timeout(TIMEOUT_S):
                return await anext(aiter(client.messages))

    asyncio.run(subscribe_then_leave())
    asyncio.run(_publish(broker, "test/queue", b"while you were away", qos=1))
    broker.stop()
    broker.start()

    message = asyncio.run(come_back())
    assert message.payload == b"while you were away"


def test_a_second_broker_gets_its_own_port_and_directory(make_mosquitto: MakeBroker) -> None:
    first, second = make_mosquitto(), make_mosquitto()
    assert first.port != second.port
    assert first.workdir != second.workdir
    assert first.running and second.running
