"""`cuas demo`: the README's first command, end to end, with and without a broker present."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from support.broker import free_port
from support.live import live_camp


def run_demo(config: str, seconds: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cuas",
            "demo",
            "--config",
            config,
            "--speed",
            "2",
            "--duration",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


def test_demo_starts_an_embedded_broker_where_none_answers(tmp_path):
    """A fresh machine: nothing listens on the configured MQTT port, the demo still runs."""
    config = live_camp(tmp_path, free_port(), cycle_s=1.0)
    result = run_demo(str(config), 30)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "started an embedded one on 127.0.0.1" in out
    assert "ALERT   raised" in out  # the operator view received alerts over MQTT
    assert "TRACKS" in out
    received = re.search(r"(\d+) MQTT messages received by the operator view", out)
    assert received and int(received.group(1)) > 0


def test_demo_uses_the_configured_broker_when_it_answers(mosquitto, tmp_path):
    config = live_camp(tmp_path, mosquitto.port, cycle_s=1.0)
    result = run_demo(str(config), 12)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"using the one at 127.0.0.1:{mosquitto.port}" in result.stdout
    assert "TRACKS" in result.stdout
