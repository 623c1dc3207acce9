"""Shared fixtures: real Mosquitto brokers for the MQTT tests (see tests/support/broker.py).

Every test that uses a broker fixture is marked `broker`, so `pytest -m "not broker"` runs
the fast suite on a machine without Mosquitto; CI runs everything.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.broker import MakeBroker, MosquittoBroker, find_mosquitto

from cuas.tracking import kernel_cache

BROKER_FIXTURES = {"mosquitto_binary", "make_mosquitto", "mosquitto"}


@pytest.fixture(scope="session", autouse=True)
def state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every camp's default state directory (the alert journal) under a temporary folder for
    the session: tests never write state into the user's home (subprocesses inherit it)."""
    home = tmp_path_factory.mktemp("xdg-state")
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """The tracker's compiled kernels, in their on-disk cache before any test starts the core
    as a process: on a fresh clone compiling them takes 15 s on a quiet machine and minutes
    on a loaded one, which a process's start-up timeout (20 s to come online) would count;
    loading the cache takes half a second."""
    kernel_cache.warm_up()


@pytest.fixture(autouse=True)
def no_fusion_fault(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """The pipeline drops a scan that raises and goes on (cuas/fusion/pipeline.py), which
    would hide a defect from a test that only looks at the picture: any test in which fusion
    logged a fault fails, except those that inject faults on purpose."""
    yield
    if request.node.get_closest_marker("injects_faults"):
        return
    faults = [
        r.getMessage()
        for when in ("setup", "call")
        for r in caplog.get_records(when)
        if r.name == "cuas.fusion.pipeline" and r.levelno >= logging.ERROR
    ]
    assert not faults, f"fusion raised: {faults}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.broker)


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def mosquitto_binary() -> str:
    """The mosquitto binary; a developer without it skips, CI without it fails."""
    binary = find_mosquitto()
    if binary is None:
        message = "mosquitto is not installed: run scripts/setup.sh (apt-get install mosquitto)"
        if _on_ci():
            pytest.fail(message + " -- CI must run the MQTT tests", pytrace=False)
        pytest.skip(message)
    return binary


@pytest.fixture
def make_mosquitto(mosquitto_binary: str, tmp_path: Path) -> Iterator[MakeBroker]:
    """Factory for running brokers (`make_mosquitto(persistence=True)`); all stopped after."""
    brokers: list[MosquittoBroker] = []

    def make(**options: object) -> MosquittoBroker:
        workdir = tmp_path / f"mosquitto-{len(brokers)}"
        broker = MosquittoBroker(workdir, binary=mosquitto_binary, **options)  # type: ignore[arg-type]
        brokers.append(broker)
        broker.start()
        return broker

    yield make
    for broker in brokers:
        broker.kill()


@pytest.fixture
def mosquitto(make_mosquitto: MakeBroker) -> MosquittoBroker:
    """A running Mosquitto on a free 127.0.0.1 port, no persistence, anonymous access."""
    return make_mosquitto()
