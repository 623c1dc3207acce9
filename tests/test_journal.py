"""The alert journal (cuas/io/journal.py): written before publishing, read back in order."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from support.sky import T0
from support.wire_alerts import transition

from cuas import wire
from cuas.config import load_config
from cuas.fusion.alerts import Transition
from cuas.io.journal import Journal, JournalError
from cuas.io.recording import read_records
from cuas.operator.alerts import parse_time
from cuas.service.replay import replay
from simulators.benchmark_scenarios import SAMPLE_CONFIG, SAMPLE_DIR


def alert(alert_id: str, state: str, t: float, level: str = "warning") -> Transition:
    return transition(alert_id, state, t, level, t_raised=T0)


def test_transitions_are_pending_in_order_until_marked_published(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        seqs = j.append([alert("a-1", "raised", T0), alert("a-1", "escalated", T0 + 5)])
        j.append([alert("a-2", "raised", T0 + 6)])
        assert [r.seq for r in j.pending()] == [*seqs, seqs[-1] + 1]
        assert [(r.alert_id, r.state) for r in j.pending()][:2] == [
            ("a-1", "raised"),
            ("a-1", "escalated"),
        ]
        j.mark_published(seqs[0])
        assert [r.state for r in j.pending()] == ["escalated", "raised"]
        assert j.pending_count() == 2
        expected = alert("a-1", "escalated", T0 + 5).alert
        assert j.pending()[0].alert == msgspec.structs.replace(expected, seq=seqs[1])


def test_it_survives_reopening_and_knows_the_active_alerts(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        j.append([alert("a-1", "raised", T0), alert("a-2", "raised", T0 + 1)])
        j.append([alert("a-1", "escalated", T0 + 2, "critical"), alert("a-2", "cleared", T0 + 3)])
        j.append([alert("a-3", "raised", T0 + 4)])
    with Journal(path) as j:  # as after a crash and restart
        active = j.active()
        assert [(r.alert_id, r.state, r.level) for r in active] == [
            ("a-1", "escalated", "critical"),
            ("a-3", "raised", "warning"),
        ]
        assert j.next_alert_number() == 4
        assert j.pending_count() == 5  # nothing was published


def test_query_filters_by_time_level_state_and_alert(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        j.append([alert("a-1", "raised", T0), alert("a-1", "escalated", T0 + 10, "critical")])
        j.append([alert("a-2", "raised", T0 + 20), alert("a-2", "cleared", T0 + 30)])
        assert len(j.query()) == 4
        assert [r.t for r in j.query(since=T0 + 5, until=T0 + 25)] == [T0 + 10, T0 + 20]
        assert [r.alert_id for r in j.query(level="critical")] == ["a-1"]
        assert [r.alert_id for r in j.query(state="raised")] == ["a-1", "a-2"]
        assert [r.state for r in j.query(alert_id="a-2")] == ["raised", "cleared"]


def test_a_file_that_is_not_a_journal_is_refused_not_replaced(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database\n" * 100)
    with pytest.raises(JournalError, match=r"garbage\.sqlite: damaged or not an SQLite database"):
        Journal(garbage)
    assert garbage.read_bytes() == b"this is not a database\n" * 100  # untouched
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(JournalError, match=r"other\.sqlite: not a cuas alert journal"):
        Journal(other)


def test_a_damaged_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        j.append([alert(f"a-{i}", "raised", T0 + i) for i in range(200)])
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[2 * page : 3 * page] = b"\xa5" * page  # a page of the table overwritten
    path.write_bytes(bytes(data))
    with pytest.raises(JournalError, match=r"j\.sqlite: damaged"):
        Journal(path)


def test_cuas_run_with_a_corrupt_journal_stops_at_start_up_naming_the_file(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.sqlite"
    journal.write_bytes(b"\x00garbage" * 1000)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cuas",
            "run",
            "--config",
            str(SAMPLE_CONFIG),
            "--journal",
            str(journal),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"cuas: alert journal {journal}: damaged or not an SQLite database" in result.stderr
    assert journal.read_bytes() == b"\x00garbage" * 1000


def test_cuas_run_refuses_another_camps_journal_and_keeps_its_own_in_the_state_dir(
    tmp_path: Path,
) -> None:
    camp_id = load_config(SAMPLE_CONFIG).camp_id
    journal = tmp_path / "journal.sqlite"
    with Journal(journal, camp_id="bravo") as j:
        j.append([alert("bravo-1", "raised", T0)])
    command = ["run", "--config", str(SAMPLE_CONFIG), "--journal", str(journal)]
    result = subprocess.run(
        [sys.executable, "-m", "cuas", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"written by camp 'bravo', not {camp_id!r}" in result.stderr
    # Without --journal the camp's journal lives in its state directory (the tests' is under
    # a temporary XDG_STATE_HOME, see conftest.py), never in the working directory.
    assert load_config(SAMPLE_CONFIG).journal_path.is_relative_to(os.environ["XDG_STATE_HOME"])


def test_replay_can_journal_its_transitions_and_cuas_alerts_lists_them(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    out = tmp_path / "o.msgpack"
    replay(
        SAMPLE_DIR / "camp-ingress.msgpack",
        load_config(SAMPLE_CONFIG),
        out,
        progress=False,
        journal=journal,
    )
    written = [r.payload for r in read_records(out) if r.topic == "alert"]
    with Journal(journal) as j:
        rows = j.query()
        assert [wire.to_msgpack(r.alert) for r in rows] == written
        assert j.pending_count() == 0  # replay publishes nothing: recorded as delivered
    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "cuas",
            "alerts",
            "--journal",
            str(journal),
            "--level",
            "critical",
            "--state",
            "escalated",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert len(lines) >= 2 and all("escalated    critical" in line for line in lines[:-1])
    assert lines[-1].endswith(f"transitions of {len(lines) - 1} alerts in {journal}")
    missing = subprocess.run(
        [sys.executable, "-m", "cuas", "alerts", "--journal", str(tmp_path / "none.sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "none.sqlite: no such file" in missing.stderr


def test_times_for_the_review_are_unix_seconds_or_iso_8601() -> None:
    assert parse_time("1764000000") == 1764000000.0
    assert parse_time("2025-11-24T16:00:00") == 1764000000.0
    assert parse_time("2025-11-24T17:00:00+01:00") == 1764000000.0


def test_every_journaled_alert_carries_its_seq_strictly_increasing_even_after_pruning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        first = j.append([alert("a-1", "raised", T0), alert("a-1", "cleared", T0 + 1)])
        for seq in first:
            j.mark_published(seq, at=T0 + 2)
        assert [wire.from_json(r.payload, wire.Alert).seq for r in j.query()] == first
        assert j.prune(before=T0 + 3) == 0  # written now: not old enough
    with Journal(path) as j:
        assert j.prune(before=9e10) == 1  # everything cleared and published goes
        assert j.query() == [] and j.next_alert_number() == 2  # ids stay unique
        (later,) = j.append([alert("a-2", "raised", T0 + 4)])
        assert later > max(first)  # never reused


def test_pruning_keeps_active_and_unpublished_alerts(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        j.append([alert("a-1", "raised", T0)])  # active
        j.append([alert("a-2", "raised", T0), alert("a-2", "cleared", T0 + 1)])  # unpublished
        assert j.prune(before=9e10) == 0
        assert {r.alert_id for r in j.query()} == {"a-1", "a-2"}


def test_pruning_bounds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        for k in range(300):
            seqs = j.append(
                [alert(f"a-{k}", "raised", T0 + k), alert(f"a-{k}", "cleared", T0 + k + 0.5)]
            )
            for seq in seqs:
                j.mark_published(seq)
        full = j.size_bytes()
        assert j.prune(before=9e10) == 300
        assert j.size_bytes() < full / 4


def test_a_journal_is_refused_to_another_camp(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path, camp_id="alpha") as j:
        j.append([alert("a-1", "raised", T0)])
    with Journal(path, camp_id="alpha") as j:  # its own camp: fine
        assert j.camp_id == "alpha"
    with pytest.raises(JournalError, match="written by camp 'alpha', not 'bravo'"):
        Journal(path, camp_id="bravo")
    with Journal(path, create=False) as j:  # `cuas alerts` reads any camp's
        assert len(j.query()) == 1


def test_a_schema_1_journal_is_upgraded_and_its_rows_get_their_seq(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with Journal(path) as j:
        j.append([alert("a-1", "raised", T0)])
    db = sqlite3.connect(path)  # as a core before `seq` and `meta` left it
    db.execute("DROP TABLE meta")
    db.execute(
        "UPDATE transitions SET payload = ?", (wire.to_json(alert("a-1", "raised", T0).alert),)
    )
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with Journal(path, camp_id="alpha") as j:
        assert [r.alert.seq for r in j.query()] == [1]
        assert j.camp_id == "alpha"
