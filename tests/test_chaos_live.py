"""Chaos: a raid while the broker restarts every few seconds and the core is SIGKILLed at a
random point of the alert's life, then started again. A real Mosquitto (with persistence, as
deployed) and `cuas run` as its own process; the consumer is an operations console with a
persistent session. Every transition the journal holds reaches it exactly once after
deduplication by `seq`, in order, none lost. Two runs here; benchmarks/robustness_io.py
runs ten (`--chaos-runs`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess

import pytest
from support.broker import MosquittoBroker
from support.live import (
    Heard,
    camp,
    corner_clip,
    eventually,
    listening,
    small_camp,
    start_core_process,
)

from cuas.config import CampConfig
from cuas.io.journal import Journal

RUNS = int(os.environ.get("CUAS_CHAOS_RUNS", "2"))


def chaos_camp(tmp_path, port: int) -> CampConfig:
    path = small_camp(tmp_path, port)
    # Restarts take seconds on a loaded machine: keep the restored alert findable (see
    # test_alerts_live.py's kill test).
    text = path.read_text().replace("delete_after_s = 8.0", "delete_after_s = 60.0")
    path.write_text(text.replace("restore_radius_m = 500.0", "restore_radius_m = 3000.0"))
    return camp(path)


async def restart_broker_every(
    broker: MosquittoBroker, rng: random.Random, restarts: list[float]
) -> None:
    """Stop and start the broker (gracefully: its store is saved) every 2-4 s, forever."""
    while True:
        await asyncio.sleep(rng.uniform(2.0, 4.0))
        await asyncio.to_thread(broker.stop)
        await asyncio.sleep(rng.uniform(0.2, 1.0))
        await asyncio.to_thread(broker.start)
        restarts.append(asyncio.get_running_loop().time())


def journaled(config: CampConfig) -> tuple[list, int]:  # type: ignore[type-arg]
    with Journal(config.journal_path, create=False) as journal:
        return [r.alert for r in journal.query()], journal.pending_count()


async def raid(
    broker: MosquittoBroker, config: CampConfig, seed: int, restarts: list[float]
) -> tuple[Heard, list]:  # type: ignore[type-arg]
    """One raid under chaos; returns what the console heard and what the journal holds."""
    rng = random.Random(seed)
    path = config.journal_path.parent / "camp.toml"
    stop = asyncio.Event()
    async with listening(broker.port, identifier="chaos-ops", clean_session=False) as ops:
        core: subprocess.Popen[str] = start_core_process(path)
        chaos: asyncio.Task[None] | None = None
        try:
            await eventually(lambda: bool(ops.statuses), 30, "the core online")
            flight = asyncio.create_task(corner_clip(config).fly(stop))
            chaos = asyncio.create_task(restart_broker_every(broker, rng, restarts))
            await eventually(lambda: bool(ops.events), 30, "the raised alert")
            await asyncio.sleep(rng.uniform(0.0, 10.0))  # somewhere in the alert's life
            core.kill()
            await asyncio.to_thread(core.wait, 10)
            core = start_core_process(path)
            await eventually(
                lambda: any(a.state == "cleared" for a in ops.events), 90, "the clearance"
            )
            stop.set()
            await flight
            chaos.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chaos
            await asyncio.to_thread(broker.start)  # if the chaos left it stopped

            def delivered() -> bool:
                alerts, pending = journaled(config)
                return pending == 0 and len(ops.events) >= len(alerts)

            await eventually(delivered, 60, "every journaled transition delivered")
        finally:
            if chaos is not None:
                chaos.cancel()
            core.send_signal(signal.SIGTERM)
            await asyncio.to_thread(core.wait, 15)
        alerts, _ = journaled(config)
        return ops, alerts


@pytest.mark.parametrize("seed", range(RUNS))
def test_every_transition_reaches_the_console_exactly_once_in_order_through_chaos(
    make_mosquitto, tmp_path, seed: int
):
    broker = make_mosquitto(persistence=True)
    config = chaos_camp(tmp_path, broker.port)
    restarts: list[float] = []
    ops, alerts = asyncio.run(asyncio.wait_for(raid(broker, config, seed, restarts), 240))
    print(
        f"chaos run {seed}: {len(alerts)} transitions journaled, {len(ops.copies)} copies "
        f"delivered, {len(ops.copies) - len(ops.events)} duplicates dropped, "
        f"{len(restarts)} broker restarts, states {[a.state for a in ops.events]}"
    )
    assert restarts, "the broker never restarted during the raid"
    # Copies of one transition are identical; after dedup the console has the journal, in
    # order, each once, and nothing else.
    by_seq = {}
    for copy in ops.copies:
        assert by_seq.setdefault(copy.seq, copy) == copy
    assert ops.events == alerts
    assert [a.seq for a in ops.events] == sorted({a.seq for a in ops.events})
    assert [a.state for a in alerts].count("raised") == len({a.alert_id for a in alerts})
