"""Say what a public change was, in the subscriber's language: a work's status changed, or a
traffic restriction was added, changed or lifted.

A restriction is read from its own history up to the entry the event points at, so that a
mail sent later (a morning digest) tells what was announced then, not what holds by the time
it leaves. Only public fields go in: names, statuses and what a restriction notice says;
never who made a change, nor a work's internal notes.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tracker.city.places import start_places
from tracker.core.clock import JST
from tracker.core.translate import force_locale
from tracker.core.translate import gettext as _
from tracker.outbox.models import OutboxEvent
from tracker.projects.history import StatusUpdate
from tracker.projects.models import Project
from tracker.restrictions.models import RestrictionChange
from tracker.restrictions.operations import FIELDS
from tracker.restrictions.wording import hours_label
from tracker.serving.links import external_url
from tracker.words.vocab import restriction_field_label, restriction_label, status_label
from tracker.words.wording import day_label, distance_label, period_label

# What a restriction recorded before it had days, hours and lines of its own held: the
# values its first history entry leaves out.
BEFORE_RECORDS = {
    "days": "every_day",
    "time_from": None,
    "time_until": None,
    "reason": "",
    "contact": "",
    "section": None,
    "detour": None,
}


@dataclass
class Change:
    """One public change, said in the subscriber's language."""

    headline: str
    project_name: str
    project_url: str
    when: str
    facts: list[tuple[str, str]] = field(default_factory=list)


def moment_label(moment: datetime, lang: str) -> str:
    """Say a moment in Japan time: '2026年11月29日 10:42' or '29 November 2026, 10:42 JST'."""
    local = moment.astimezone(JST)
    day = day_label(local.date(), lang)
    return f"{day}, {local:%H:%M} JST" if lang == "en" else f"{day} {local:%H:%M}"


def changes_for(
    session: Session, event_ids: list[int], lang: str, said: dict | None = None
) -> list[Change | None]:
    """Describe each event in the language, None for those no longer public.

    `said` keeps descriptions across the subscriptions of one run: one change near ten
    thousand subscribers is read and worded once per language, not ten thousand times.
    """
    said = {} if said is None else said
    missing = [i for i in event_ids if (i, lang) not in said]
    if missing:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(missing)))
        with force_locale(lang):
            for event in events:
                said[event.id, lang] = describe_change(session, event, lang)
    return [said.get((i, lang)) for i in event_ids]


def describe_change(session: Session, event: OutboxEvent, lang: str) -> Change | None:
    """Say what an event changed; None when its project is no longer public (or withdrawn)."""
    project = session.get(Project, event.project_id)
    if project is None or not project.is_visible(include_private=False):
        return None
    change = Change(
        headline="",
        project_name=project.name,
        project_url=external_url("web.project_page", project_id=project.id, lang=lang),
        when=moment_label(event.occurred_at, lang),
    )
    if event.kind == "status":
        return _status_change(session, event, change, lang)
    record = session.get(RestrictionChange, event.restriction_change_id)
    if record is None:
        return None
    return _restriction_change(session, event, record, change, lang)


def _status_change(session: Session, event: OutboxEvent, change: Change, lang: str) -> Change:
    details = event.details
    previous, status = details.get("previous_status"), details["status"]
    if status == "completed":
        change.headline = _("工事が完了しました")
    elif status == "construction" and previous in ("suspended", "completed"):
        change.headline = _("工事が再開されました")
    elif status == "construction":
        change.headline = _("工事が始まりました")
    else:
        change.headline = _("工事の状況が変わりました")
    # When it was seen on site: an update sent from a phone without signal arrives later.
    seen = session.scalar(
        select(StatusUpdate.observed_at).where(StatusUpdate.id == event.status_update_id)
    )
    change.when = moment_label(seen or event.occurred_at, lang)
    before = f"{status_label(previous)} → " if previous else ""
    change.facts.append((_("状況"), before + status_label(status)))
    change.facts.append((_("進捗"), f"{details.get('progress', 0)}%"))
    return change


def restriction_at(session: Session, record: RestrictionChange) -> tuple[dict, dict]:
    """Return a restriction's fields (as its history keeps them) after and before `record`."""
    state = dict(BEFORE_RECORDS)
    history = session.scalars(
        select(RestrictionChange.changes)
        .where(
            RestrictionChange.restriction_id == record.restriction_id,
            RestrictionChange.id <= record.id,
        )
        .order_by(RestrictionChange.id)
    )
    for changes in history:
        state.update({name: diff["new"] for name, diff in changes.items() if name in FIELDS})
    before = state | {name: diff["old"] for name, diff in record.changes.items() if name in FIELDS}
    return state, before


def _restriction_change(
    session: Session, event: OutboxEvent, record: RestrictionChange, change: Change, lang: str
) -> Change:
    now, before = restriction_at(session, record)
    kind = restriction_label(now["kind"])
    starts_on = date.fromisoformat(now["starts_on"])
    if event.kind == "restriction_added":
        if starts_on > event.occurred_at.astimezone(JST).date():
            change.headline = _(
                "%(day)sから%(kind)sが始まります", day=day_label(starts_on, lang), kind=kind
            )
        else:
            change.headline = _("%(kind)sが始まりました", kind=kind)
    elif event.kind == "restriction_lifted":
        change.headline = _("%(kind)sが解除されました", kind=kind)
    else:
        change.headline = _("%(kind)sの内容が変わりました", kind=kind)
    changed = set(record.changes) if event.kind == "restriction_changed" else set()
    change.facts = _restriction_facts(session, now, before, changed, lang)
    return change


def _restriction_facts(
    session: Session, now: dict, before: dict, changed: set[str], lang: str
) -> list[tuple[str, str]]:
    """List what a restriction is, where and when, saying what each changed field was."""

    def said(fields: tuple[str, ...], label: str, word: Callable[..., str]) -> tuple[str, str]:
        value = word(now)
        if changed.intersection(fields):
            value += _("（変更前: %(old)s）", old=word(before))
        return label, value

    facts = [
        said(("kind",), _("規制"), lambda r: restriction_label(r["kind"])),
        said(
            ("section",), restriction_field_label("section"), lambda r: _section(session, r, lang)
        ),
        said(
            ("starts_on", "ends_on"),
            _("期間"),
            lambda r: period_label(r["starts_on"], r["ends_on"], lang),
        ),
        said(
            ("days", "time_from", "time_until"),
            _("時間"),
            lambda r: hours_label(r["days"], r["time_from"], r["time_until"]),
        ),
    ]
    if now["detour"] or "detour" in changed:
        facts.append(
            said(("detour",), restriction_field_label("detour"), lambda r: _detour(session, r))
        )
    facts.append(said(("description",), _("内容"), lambda r: r["description"]))
    for name in ("reason", "contact"):
        if now[name] or name in changed:
            facts.append(
                said(
                    (name,), restriction_field_label(name), lambda r, n=name: r[n] or _("（なし）")
                )
            )
    return facts


def _line(geojson: dict) -> ColumnElement[Any]:
    return func.geography(func.ST_GeomFromGeoJSON(json.dumps(geojson)))


def _section(session: Session, restriction: dict, lang: str) -> str:
    """Name a section by its length and the nearest place people know it by."""
    if not restriction["section"]:
        return _("区間は未入力（事業の位置で表示）")
    line = _line(restriction["section"])
    places = start_places(session)
    from_places = [
        func.ST_Distance(
            line, func.geography(func.ST_SetSRID(func.ST_MakePoint(p.lon, p.lat), 4326))
        )
        for p in places
    ]
    length, *distances = session.execute(select(func.ST_Length(line), *from_places)).one()
    nearest, metres = min(zip(places, distances, strict=True), key=lambda pair: pair[1])
    return _(
        "約%(length)sの区間（%(place)sから約%(distance)s）",
        length=distance_label(length),
        place=nearest.label(lang),
        distance=distance_label(metres),
    )


def _detour(session: Session, restriction: dict) -> str:
    if not restriction["detour"]:
        return _("（なし）")
    length = session.execute(select(func.ST_Length(_line(restriction["detour"])))).scalar_one()
    return _("約%(length)s（地図の緑の点線）", length=distance_label(length))
