"""The live core's journal writer (cuas/io/journal_writer.py): writes off the event loop, in
group commits, and a transition announced to the publisher only once it is on disk."""

from __future__ import annotations

import threading
from pathlib import Path

from support.sky import T0
from support.wire_alerts import transition

from cuas.fusion.alerts import Transition
from cuas.io.journal import Journal
from cuas.io.journal_writer import JournalWriter


def alert(alert_id: str, state: str, t: float) -> Transition:
    return transition(alert_id, state, t, t_raised=T0)


def test_a_transition_is_announced_only_once_another_connection_can_read_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path, camp_id="alpha") as reader:
        seen: list[list[str]] = []
        writer = JournalWriter(
            path, on_durable=lambda: seen.append([r.state for r in reader.pending()])
        )
        writer.append([alert("a-1", "raised", T0)])
        writer.append([alert("a-1", "escalated", T0 + 5)])
        assert writer.flush(timeout=10)
        writer.close()
        # At each announcement the rows were already committed (the reader sees no others).
        assert seen and seen[0][0] == "raised" and seen[-1] == ["raised", "escalated"]


def test_writes_queued_while_a_commit_is_under_way_share_the_next_commit(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path, camp_id="alpha").close()
    first_done, go_on = threading.Event(), threading.Event()

    def on_durable() -> None:  # holds the writer's thread after its first commit
        first_done.set()
        go_on.wait(10)

    writer = JournalWriter(path, on_durable=on_durable)
    writer.append([alert("a-1", "raised", T0)])
    assert first_done.wait(10)
    for i in range(2, 6):
        writer.append([alert(f"a-{i}", "raised", T0 + i)])
    writer.mark_published([1])
    writer.alive(T0 + 10)
    go_on.set()
    assert writer.flush(timeout=10)
    assert writer.commits == 2  # five transitions, a mark and a heartbeat: two syncs to disk
    writer.close()
    with Journal(path, create=False) as j:
        assert [r.alert_id for r in j.pending()] == ["a-2", "a-3", "a-4", "a-5"]
        assert j.last_alive() is not None and j.last_alive() >= T0 + 10


def test_a_publisher_whose_marks_are_still_queued_skips_what_it_sent(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        seqs = j.append([alert("a-1", "raised", T0), alert("a-2", "raised", T0 + 1)])
        assert [r.seq for r in j.pending(after=seqs[0])] == [seqs[1]]
        assert j.pending_count(after=seqs[0]) == 1 and j.pending_count() == 2


def test_closing_commits_everything_queued(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    writer = JournalWriter(path, camp_id="alpha")
    writer.append([alert("a-1", "raised", T0)])
    writer.mark_published([1])
    writer.close()
    with Journal(path, create=False) as j:
        assert [r.published_at is not None for r in j.query()] == [True]
