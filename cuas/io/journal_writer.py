"""The live core's journal writes, on a thread of their own and committed in groups.

A durable SQLite commit (WAL, `synchronous=FULL`) waits for the disk: ~1-9 ms here, longer on
a busy or slow disk. Made on the event loop, every alert transition, every PUBACKed alert
and the heartbeat stalled ingest and publication for that long. `JournalWriter` takes those
writes off the loop: it queues them and a thread writes everything queued in one transaction
(group commit: one sync to disk however many arrived meanwhile).

The delivery promise is unchanged: an alert transition is published only once it is durable.
The publisher reads its outbox from the journal's other connection, which sees committed rows
only, and hears of new rows (`on_durable`) only after their commit. A transition computed but
not yet committed when the core dies is lost as it was before (it was never published, and
the restarted core derives the alert afresh). Marks of published rows are grouped the same
way; one lost in a crash makes the row go out again on restart, which consumers drop by `seq`.
A failed commit is logged and retried, its writes kept: nothing is published meanwhile.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cuas.fusion.alerts import Transition
from cuas.io.journal import Journal

log = logging.getLogger("cuas.io.journal_writer")

RETRY_S = 1.0  # after a failed commit


@dataclass
class _Writes:
    """What the thread commits in one transaction."""

    transitions: list[Transition] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    alive_at: float | None = None
    prune_before: float | None = None
    flushed: list[threading.Event] = field(default_factory=list)


class JournalWriter:
    """Writes to the journal at `path` from a thread (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        camp_id: str | None = None,
        on_durable: Callable[[], None] | None = None,
    ) -> None:
        """`on_durable` is called from the writer's thread after each commit that made new
        transitions durable (the service hands it on to its loop, threadsafe)."""
        self.journal = Journal(path, camp_id=camp_id)
        self.on_durable = on_durable
        self.commits = 0
        self.failures = 0
        self._queue: queue.SimpleQueue[_Writes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    def append(self, transitions: Iterable[Transition]) -> None:
        """Journal these transitions durably, soon; `on_durable` says when."""
        self._queue.put(_Writes(transitions=list(transitions)))

    def mark_published(self, seqs: Iterable[int]) -> None:
        """The broker acknowledged these rows."""
        self._queue.put(_Writes(delivered=list(seqs)))

    def alive(self, at: float) -> None:
        """The core's heartbeat."""
        self._queue.put(_Writes(alive_at=at))

    def prune(self, before: float) -> None:
        """Drop the alerts cleared and published before wall time `before` (logged)."""
        self._queue.put(_Writes(prune_before=before))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is committed; False if `timeout` ran out."""
        done = threading.Event()
        self._queue.put(_Writes(flushed=[done]))
        return done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, stop the thread and close the connection."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("journal writer still busy after %.0f s; closing without it", timeout)
            return
        self.journal.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = self._queue.get()
            if batch is None:
                batch, stopping = _Writes(), True
            while True:  # group: everything queued meanwhile goes into the same commit
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    continue
                _merge(batch, more)
            self._commit(batch, retry=not stopping)

    def _commit(self, batch: _Writes, retry: bool) -> None:
        if batch.transitions or batch.delivered or batch.alive_at is not None:
            if not self._write(batch, retry):
                return
            if batch.transitions and self.on_durable is not None:
                self.on_durable()
        if batch.prune_before is not None:
            try:
                pruned = self.journal.prune(batch.prune_before)
            except Exception:
                log.exception("journal pruning failed")
            else:
                if pruned:
                    log.info("pruned %d alerts cleared before %.0f", pruned, batch.prune_before)
        for done in batch.flushed:
            done.set()

    def _write(self, batch: _Writes, retry: bool) -> bool:
        """One transaction for the batch; a failure is retried (unless stopping), the writes
        kept: True once committed."""
        while True:
            try:
                self.journal.write(
                    batch.transitions, delivered=batch.delivered, alive_at=batch.alive_at
                )
            except Exception:
                self.failures += 1
                log.exception("journal commit failed (%d transitions kept)", len(batch.transitions))
                if not retry:
                    return False
                time.sleep(RETRY_S)
                continue
            self.commits += 1
            return True


def _merge(into: _Writes, more: _Writes) -> None:
    into.transitions += more.transitions
    into.delivered += more.delivered
    if more.alive_at is not None:
        into.alive_at = more.alive_at
    if more.prune_before is not None:
        into.prune_before = more.prune_before
    into.flushed += more.flushed
