"""A real Mosquitto broker for tests: a subprocess on a free loopback port, owned by the test.

Tests that talk MQTT run against the broker operators actually deploy, not a mock. The broker
runs in the foreground (not `-d`) so the test holds its process: it can stop it gracefully,
kill it outright, and start it again on the same port to simulate an outage. Its config,
log and (optional) persistence database live in a directory of the test's own.
"""

from __future__ import annotations

import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
# Debian installs the broker in /usr/sbin, which is not on every user's PATH.
_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"]
)


class BrokerError(RuntimeError):
    """Mosquitto did not start or stop as asked; the message carries the tail of its log."""


def find_mosquitto() -> str | None:
    """Path of the `mosquitto` binary, or None when it is not installed."""
    return shutil.which("mosquitto", path=_SEARCH_PATH)


_handed: set[int] = set()
_pick = random.Random()  # unseeded: test runs side by side must not pick alike


def _worker_share() -> tuple[int, int]:
    """(this pytest-xdist worker's index, the number of workers); (0, 1) when not parallel.
    Each worker picks only ports congruent to its index: two workers may not both pick a
    port and both find it free before either binds it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return 0, 1
    return int(worker[2:]) % count, count


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel gives outgoing connections (and `bind` to port 0)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port(host: str = HOST) -> int:
    """A TCP port that nothing listens on right now, outside the kernel's ephemeral range and
    not handed out before in this run.

    A port the kernel picks (a bind to port 0) is one it may give the next outgoing connection
    as its source port: an MQTT client's, a browser's. A test that picked one, then started a
    core that bound it a moment later, found it taken (`Address already in use`, on a fresh
    clone's CI run), and a broker restarted on its port after an outage could find the same.
    Under pytest-xdist each worker has its own share of the ports (`_worker_share`)."""
    low, high = _ephemeral_range()
    ranges = [(r0, r1) for r0, r1 in ((10000, low), (high + 1, 65536)) if r1 - r0 >= 1000]
    index, count = _worker_share()
    for _ in range(500):
        r0, r1 = _pick.choice(ranges)
        port = _pick.randrange(r0, r1)
        port -= (port - index) % count  # this worker's share of the ports
        if port in _handed or port < r0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        _handed.add(port)
        return port
    raise RuntimeError(f"no free TCP port outside {low}-{high} on {host}")


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether a TCP connection to host:port is accepted."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class MosquittoBroker:
    """One Mosquitto process on 127.0.0.1:`port`, configured from files under `workdir`.

    `persistence=True` keeps retained messages, persistent sessions and their queued QoS 1
    messages across `stop()`/`start()` (Mosquitto writes its database on SIGTERM; `kill()`
    loses whatever was not yet saved, like a power cut).

    `config_file`: run from that configuration as it is (a secured camp's, from `cuas secure
    init`) instead of writing one; `port` must then be the port it listens on. Started as
    root, Mosquitto then drops to the `mosquitto` user as in the field.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        persistence: bool = False,
        binary: str | None = None,
        start_timeout_s: float = 5.0,
        config_file: Path | None = None,
        extra_config: list[str] | None = None,
    ) -> None:
        found = binary or find_mosquitto()
        if found is None:
            raise BrokerError("mosquitto is not installed (scripts/setup.sh installs it)")
        self.binary = found
        self.host = HOST
        self.port = port or free_port()
        self.persistence = persistence
        self.start_timeout_s = start_timeout_s
        self.extra_config = list(extra_config or [])  # e.g. a bridge to another broker
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = config_file or self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        if config_file is None:
            self._write_config()
        elif port is None:
            raise BrokerError("give the port that the configuration file listens on")

    def _write_config(self) -> None:
        # Run as whoever runs the tests: as root, Mosquitto would otherwise switch to the
        # `mosquitto` user, who cannot write the test's directory.
        user = pwd.getpwuid(os.geteuid()).pw_name
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "set_tcp_nodelay true",  # as a camp's broker should: see README, latency
            f"user {user}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
        ]
        if self.persistence:
            store = self.workdir / "store"
            store.mkdir(exist_ok=True)
            lines += ["persistence true", f"persistence_location {store}/"]
        else:
            lines.append("persistence false")
        lines += self.extra_config
        self.config_path.write_text("\n".join(lines) + "\n")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    def start(self) -> None:
        """Start the broker (again, on the same port) and wait until it accepts connections."""
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerError(f"mosquitto exited with {self._process.returncode}{self._log()}")
            if port_open(self.host, self.port):
                return
            time.sleep(0.01)
        self.kill()
        raise BrokerError(f"mosquitto not listening after {self.start_timeout_s} s{self._log()}")

    def stop(self, timeout: float = 5.0) -> None:
        """Graceful shutdown (SIGTERM): clients see the connection drop, the store is saved."""
        self._end(signal.SIGTERM, timeout)

    def kill(self, timeout: float = 5.0) -> None:
        """Abrupt death (SIGKILL): nothing is saved, nothing is said to clients."""
        self._end(signal.SIGKILL, timeout)

    def _end(self, sig: signal.Signals, timeout: float) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        self._process = None

    def close(self) -> None:
        """Stop the broker if it runs; the work directory is the caller's to remove."""
        self.stop()

    def _log(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return ("; log:\n" + "\n".join(text)) if text else ""

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"MosquittoBroker({self.host}:{self.port}, {state})"


MakeBroker = Callable[..., MosquittoBroker]
"""The type of the `make_mosquitto` fixture: keyword options of `MosquittoBroker` -> running."""
