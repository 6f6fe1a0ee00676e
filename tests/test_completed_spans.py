"""The spans in which works stood completed, kept by a trigger on status_updates (migration
cs1), say what reading each work's history in order says: at any instant, a work was
completed exactly when one of its spans holds that instant."""

import random
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, SmallInteger, Text, column, delete, or_, select, values

from tracker.core.clock import JST
from tracker.projects.history import CompletedSpan, append_loaded_history, append_past_status
from tracker.projects.models import Project
from tracker.projects.queries import status_at
from tracker.words.vocab import STATUSES

START = datetime(2021, 4, 1, 9, 0, tzinfo=JST)
TICK = timedelta(microseconds=1)


def _completed_by_history(session, instant: datetime) -> set[int]:
    latest = status_at(instant)
    return set(session.scalars(select(latest.c.project_id).where(latest.c.status == "completed")))


def _completed_by_spans(session, instant: datetime) -> set[int]:
    holds = (
        CompletedSpan.since < instant,
        or_(CompletedSpan.until.is_(None), CompletedSpan.until >= instant),
    )
    return set(session.scalars(select(CompletedSpan.project_id).where(*holds)))


def _agree_at(session, instants: list[datetime]) -> None:
    for instant in instants:
        by_spans = _completed_by_spans(session, instant)
        assert by_spans == _completed_by_history(session, instant), instant


def test_spans_follow_histories_appended_in_any_order(session, make_project):
    rng = random.Random(7)
    # Few distinct instants, so that entries share them (the id then orders them).
    moments = [START + timedelta(days=rng.randrange(1500)) for _ in range(25)]
    works = [make_project(kind="bridge", created_at=START - timedelta(days=30)) for _ in range(12)]
    for _ in range(70):
        work = rng.choice(works)
        # Placed after the latest entry or before it: the spans are made again either way.
        append_past_status(
            session,
            work.id,
            status=rng.choice(list(STATUSES)),
            progress=rng.randrange(101),
            recorded_at=rng.choice(moments),
        )
    session.flush()
    ids = {w.id for w in works}
    checked = sorted({m + d for m in moments for d in (-TICK, timedelta(0), TICK)})
    _agree_at(session, checked)
    assert any(_completed_by_spans(session, m + TICK) & ids for m in moments)


def test_entries_loaded_in_one_statement_make_their_works_spans(session, make_project):
    works = [make_project(kind="bridge", created_at=START) for _ in range(3)]
    day = timedelta(days=1)
    rows = [
        (works[0].id, START + 10 * day, "planned", "completed", 100, ""),
        (works[0].id, START + 20 * day, "completed", "construction", 50, ""),
        (works[0].id, START + 30 * day, "construction", "completed", 100, ""),
        (works[1].id, START + 10 * day, "planned", "completed", 100, ""),
        (works[1].id, START + 15 * day, "completed", "completed", 100, "検査済み"),
        (works[2].id, START + 10 * day, "planned", "construction", 10, ""),
    ]
    entries = values(
        column("project_id", Integer),
        column("recorded_at", DateTime(timezone=True)),
        column("previous_status", Text),
        column("status", Text),
        column("progress", SmallInteger),
        column("note", Text),
        name="entries",
    ).data(rows)
    append_loaded_history(session, select(entries))
    spans = session.execute(
        select(CompletedSpan.project_id, CompletedSpan.since, CompletedSpan.until)
        .where(CompletedSpan.project_id.in_([w.id for w in works]))
        .order_by(CompletedSpan.project_id, CompletedSpan.since)
    ).all()
    # Completed again while completed (an inspection) goes on with the same span.
    assert [tuple(s) for s in spans] == [
        (works[0].id, START + 10 * day, START + 20 * day),
        (works[0].id, START + 30 * day, None),
        (works[1].id, START + 10 * day, None),
    ]
    _agree_at(session, [START + d * day for d in (5, 10, 12, 20, 25, 30, 40)])


def test_a_deleted_work_leaves_no_spans(session, make_project):
    work = make_project(kind="bridge", created_at=START)
    append_past_status(
        session, work.id, status="completed", progress=100, recorded_at=START + timedelta(days=3)
    )
    assert session.scalars(select(CompletedSpan.project_id)).all().count(work.id) == 1
    session.execute(delete(Project).where(Project.id == work.id))
    assert work.id not in session.scalars(select(CompletedSpan.project_id)).all()
