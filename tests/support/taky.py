"""A real TAK server for tests: taky, in its own virtualenv, plain TCP on a loopback port.

taky (MIT) relays every CoT event it receives to every other connected client; it needs the
`redis` package but no Redis server (`redis = false`), and one root directory per instance
(it keeps a management socket there). `CotListener` is the second client, a TAK user's
stand-in: it connects, sends nothing, and parses every event taky relays to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import TracebackType

from support.broker import HOST, free_port, port_open
from support.peers import ensure

CONF = """\
[taky]
hostname = localhost
node_id = cuas-test
bind_ip = {host}
redis = false
root_dir = {root}

[cot_server]
port = {port}

[dp_server]
upload_path = {root}/dp-user

[ssl]
enabled = false
"""


class TakyServer:
    """taky on 127.0.0.1:`port`, its config and log under `workdir`; a context manager."""

    def __init__(self, workdir: Path, start_timeout_s: float = 20.0) -> None:
        self.python = ensure("taky")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.start_timeout_s = start_timeout_s
        self.log_path = self.workdir / "taky.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = self.workdir / "taky.conf"
        conf.write_text(CONF.format(host=HOST, root=self.workdir, port=self.port))
        taky = self.python.parent / "taky"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(taky), "-c", str(conf), "-l", "info"],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.start_timeout_s
        while not port_open(HOST, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"taky did not start: {self.log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5.0)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5.0)
        self.proc = None

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> TakyServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class CotListener:
    """A TAK client that only listens: every event relayed to it, parsed, in arrival order."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.events: list[ET.Element] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> CotListener:
        reader, writer = await asyncio.open_connection(HOST, self.port)
        self._writer = writer
        self._task = asyncio.create_task(self._read(reader))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        # taky writes bare <event> elements back to back: parse them as children of one root.
        parser = ET.XMLPullParser(events=("end",))
        parser.feed(b"<stream>")
        while data := await reader.read(65536):
            parser.feed(data)
            for _, element in parser.read_events():
                if element.tag == "event":
                    self.events.append(element)

    def of(self, uid: str) -> list[ET.Element]:
        return [e for e in self.events if e.get("uid") == uid]
