"""The alert journal and outbox: every alert transition, in SQLite, before it is published.

One table of transitions in the order they happened (`seq`, SQLite AUTOINCREMENT: never
reused, even after pruning, so it is the camp-wide, strictly increasing number every
published alert carries and consumers deduplicate by). A transition is appended (and
synced to disk: WAL, `synchronous=FULL`) before anyone publishes it; the MQTT publisher
reads the unpublished rows in order and marks each one published once the broker has
acknowledged it, so a broker outage or a crash loses nothing: what is pending goes out, in
order, when the broker is back or the core restarts. The latest row of every alert not yet
cleared is the set of active alerts a restarted core takes back. `cuas alerts` queries it.
The live core writes through `JournalWriter` (cuas/io/journal_writer.py), a thread that
commits what is queued in one transaction (`write`), and reads its outbox on a connection of
its own, which sees committed rows only.

A file that is not a cuas journal, is damaged, or was written by another camp (the camp id
is kept in the `meta` table) is refused with `JournalError` naming the file: the core never
replaces an operator's record silently, nor takes another camp's alerts for its own. Cleared
alerts older than the retention are pruned (`prune`), so the file stays bounded; the number
of alerts pruned is kept so alert ids stay unique. The core's heartbeat (`alive`) says when
it was last known running, so a restart can tell how long it was down.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from cuas import wire
from cuas.errors import CuasError
from cuas.fusion.alerts import Transition

APPLICATION_ID = 0x43554153  # "CUAS" in the SQLite header: this file is a cuas journal
SCHEMA_VERSION = 2  # 2: the `meta` table (camp id, heartbeat, alerts pruned)

_META = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_SCHEMA = """
CREATE TABLE transitions (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id     TEXT NOT NULL,
    subject      TEXT NOT NULL,      -- 'track' or 'sensor:<id>'
    state        TEXT NOT NULL,
    level        TEXT NOT NULL,
    t            REAL NOT NULL,      -- the transition's time (measurement time)
    payload      BLOB NOT NULL,      -- the wire Alert, JSON as published
    written_at   REAL NOT NULL,      -- wall clock when journaled
    published_at REAL                -- wall clock of the broker's acknowledgement; NULL: pending
);
CREATE INDEX transitions_pending ON transitions (seq) WHERE published_at IS NULL;
CREATE INDEX transitions_alert ON transitions (alert_id, seq);
CREATE INDEX transitions_t ON transitions (t);
"""


class JournalError(CuasError, RuntimeError):
    """A journal file that cannot be used; names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"alert journal {path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Row:
    """One journaled transition."""

    seq: int
    alert_id: str
    subject: str
    state: str
    level: str
    t: float
    payload: bytes
    written_at: float
    published_at: float | None

    @property
    def alert(self) -> wire.Alert:
        """The journaled alert, carrying its `seq` (rows of schema 1 lack it in the payload)."""
        a = wire.from_json(self.payload, wire.Alert)
        return a if a.seq == self.seq else msgspec.structs.replace(a, seq=self.seq)


_COLUMNS = "seq, alert_id, subject, state, level, t, payload, written_at, published_at"


class Journal:
    """The SQLite journal of one core (see the module docstring)."""

    def __init__(self, path: str | Path, create: bool = True, camp_id: str | None = None) -> None:
        """Open (or create) the journal at `path`. With `camp_id`, a journal written by
        another camp is refused and an unclaimed one is claimed for this camp."""
        self.path = str(path)
        if create:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if not create and not Path(path).is_file():
            raise JournalError(self.path, "no such file")
        fresh = not Path(path).exists() or Path(path).stat().st_size == 0
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(self.path, f"cannot open: {exc}") from None
        try:
            self._open(fresh)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise JournalError(
                self.path, f"damaged or not an SQLite database ({exc}); refusing to overwrite it"
            ) from None
        if camp_id is not None:
            self._claim(camp_id)

    def _open(self, fresh: bool) -> None:
        db = self._db
        if fresh:
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # pruned pages go back to the disk
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            db.executescript(_SCHEMA + _META)
        else:
            app = db.execute("PRAGMA application_id").fetchone()[0]
            if app != APPLICATION_ID:
                db.close()
                raise JournalError(self.path, "not a cuas alert journal (another SQLite file)")
            check = db.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                db.close()
                problems = "; ".join(str(r[0]) for r in check[:3])
                raise JournalError(self.path, f"damaged: {problems}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 1:  # additive: the meta table
                db.executescript(_META)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                version = SCHEMA_VERSION
            if version != SCHEMA_VERSION:
                db.close()
                raise JournalError(
                    self.path, f"schema version {version}, expected {SCHEMA_VERSION}"
                )
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")

    def _claim(self, camp_id: str) -> None:
        owner = self.meta("camp_id")
        if owner is None:
            self._set_meta("camp_id", camp_id)
        elif owner != camp_id:
            self._db.close()
            raise JournalError(
                self.path,
                f"written by camp {owner!r}, not {camp_id!r}: refusing to take another camp's "
                "alerts (give this camp its own state_dir or alerts.journal)",
            )

    def meta(self, key: str) -> str | None:
        """A value of the `meta` table (`camp_id`, `alive_at`, `pruned_alerts`), or None."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def camp_id(self) -> str | None:
        return self.meta("camp_id")

    def alive(self, at: float | None = None) -> None:
        """The core's heartbeat: it was running at wall time `at` (default now)."""
        self._set_meta("alive_at", repr(time.time() if at is None else at))

    def last_alive(self) -> float | None:
        """When the core that wrote this journal was last known running (heartbeat or the
        latest transition written), or None for an empty journal."""
        beat = self.meta("alive_at")
        written = self._db.execute("SELECT MAX(written_at) FROM transitions").fetchone()[0]
        known = [float(v) for v in (beat, written) if v is not None]
        return max(known) if known else None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ----------------------------------------------------------------------

    def append(
        self, transitions: Iterable[Transition], published: bool = False, at: float | None = None
    ) -> list[int]:
        """Write transitions in one transaction, durably; returns their sequence numbers.
        `published=True` records them as already delivered (replay writes no broker); `at`
        is the wall time written (default now)."""
        transitions = list(transitions)
        if not transitions:
            return []
        return self.write(transitions, published=published, at=at)

    def write(
        self,
        transitions: Iterable[Transition] = (),
        published: bool = False,
        delivered: Iterable[int] = (),
        alive_at: float | None = None,
        at: float | None = None,
    ) -> list[int]:
        """Append `transitions`, mark the rows `delivered` published and note the heartbeat
        `alive_at`, all in one transaction: one sync to disk for the lot (the live core's
        group commit, cuas/io/journal_writer.py). Returns the new rows' sequence numbers."""
        now = time.time() if at is None else at
        seqs: list[int] = []
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for tr in transitions:
                a = tr.alert
                cur = db.execute(
                    "INSERT INTO transitions (alert_id, subject, state, level, t, payload, "
                    "written_at, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        a.alert_id,
                        tr.subject,
                        a.state,
                        a.level,
                        a.t,
                        b"",
                        now,
                        now if published else None,
                    ),
                )
                seq = int(cur.lastrowid or 0)
                payload = wire.to_json(msgspec.structs.replace(a, seq=seq))
                db.execute("UPDATE transitions SET payload = ? WHERE seq = ?", (payload, seq))
                seqs.append(seq)
            db.executemany(
                "UPDATE transitions SET published_at = ? WHERE seq = ?",
                [(now, seq) for seq in delivered],
            )
            if alive_at is not None:
                self._set_meta("alive_at", repr(alive_at))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return seqs

    def mark_published(self, seq: int, at: float | None = None) -> None:
        self.write(delivered=[seq], at=at)

    # --- reading ----------------------------------------------------------------------

    def pending(self, limit: int = 100, after: int = 0) -> list[Row]:
        """Unpublished transitions, oldest first; only those after `after` (a publisher whose
        marks are still on their way to the disk skips what it has sent)."""
        return self._rows(
            "WHERE published_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        )

    def pending_count(self, after: int = 0) -> int:
        return int(
            self._db.execute(
                "SELECT COUNT(*) FROM transitions WHERE published_at IS NULL AND seq > ?",
                (after,),
            ).fetchone()[0]
        )

    def active(self) -> list[Row]:
        """The latest transition of every alert not cleared, in the order they were raised."""
        return self._rows(
            "WHERE seq IN (SELECT MAX(seq) FROM transitions GROUP BY alert_id) "
            "AND state != 'cleared' ORDER BY (SELECT MIN(seq) FROM transitions t2 "
            "WHERE t2.alert_id = transitions.alert_id)",
            (),
        )

    def next_alert_number(self) -> int:
        """One more than the number of alerts ever raised here, pruned ones included (alert
        ids stay unique)."""
        n = self._db.execute("SELECT COUNT(DISTINCT alert_id) FROM transitions").fetchone()[0]
        return int(n) + int(self.meta("pruned_alerts") or 0) + 1

    def prune(self, before: float) -> int:
        """Delete every alert cleared, and published, before wall time `before` (all its
        transitions); returns how many alerts went. Active or unpublished ones stay."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            gone = [
                r[0]
                for r in db.execute(
                    "SELECT alert_id FROM transitions GROUP BY alert_id "
                    "HAVING MAX(CASE WHEN state = 'cleared' THEN written_at END) < ? "
                    "AND COUNT(*) = COUNT(published_at)",
                    (before,),
                ).fetchall()
            ]
            db.executemany("DELETE FROM transitions WHERE alert_id = ?", [(a,) for a in gone])
            if gone:
                pruned = int(self.meta("pruned_alerts") or 0) + len(gone)
                self._set_meta("pruned_alerts", str(pruned))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if gone:
            db.executescript("PRAGMA incremental_vacuum;")  # stepped to the end: every page
        return len(gone)

    def size_bytes(self) -> int:
        """The database's size in pages (the WAL aside), for soak benchmarks and health."""
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)

    def query(
        self,
        since: float | None = None,
        until: float | None = None,
        level: str | None = None,
        state: str | None = None,
        alert_id: str | None = None,
    ) -> list[Row]:
        """Transitions for after-action review, oldest first, filtered by time (of the
        transition), level, state or alert."""
        where, args = [], []
        for column, op, value in (
            ("t", ">=", since),
            ("t", "<=", until),
            ("level", "=", level),
            ("state", "=", state),
            ("alert_id", "=", alert_id),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                args.append(value)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._rows(f"{clause} ORDER BY seq", tuple(args))

    def _rows(self, clause: str, args: tuple[object, ...]) -> list[Row]:
        cur = self._db.execute(f"SELECT {_COLUMNS} FROM transitions {clause}", args)
        return [Row(*r) for r in cur.fetchall()]
