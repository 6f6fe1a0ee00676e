"""Write the mails: a confirmation request, one change, or a day's changes in one digest.

Every mail has a plain-text part people can read as it is and an HTML part, in the
subscriber's language; it names the place, says what changed and when, links to the work
and to /near for the place, and carries a one-click unsubscribe (RFC 8058) and a link to
manage the subscription. Only public fields go in: names, statuses, restriction notices.
"""

from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.alerts.models import FREQUENCIES, TOPICS, AlertSubscription
from tracker.alerts.tokens import subscription_token
from tracker.city.places import find_place
from tracker.formatting import JST
from tracker.outbox.models import OutboxEvent
from tracker.projects.models import Project
from tracker.restrictions.models import TrafficRestriction
from tracker.vocab import restriction_label, status_label
from tracker.wording import day_label, distance_label, period_label

# Where `make run` serves, for mails written while PUBLIC_URL is unset.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
# The radius of /near opened from a mail about one project.
PROJECT_NEAR_RADIUS_M = 1000


def external_url(endpoint: str, **values) -> str:
    """Return an absolute link on the public site (PUBLIC_URL), outside any request."""
    base = urlsplit(current_app.config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL)
    urls = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return urls.build(endpoint, values, force_external=True)


def moment_label(moment: datetime, lang: str) -> str:
    """Say a moment in Japan time: '2026年11月29日 10:42' or '29 November 2026, 10:42 JST'."""
    local = moment.astimezone(JST)
    day = day_label(local.date(), lang)
    return f"{day}, {local:%H:%M} JST" if lang == "en" else f"{day} {local:%H:%M}"


@dataclass
class Place:
    """How a subscription's place is named, and where /near shows it."""

    label: str  # 内牧から1 km以内 / 「市道内牧線」
    near_url: str


def describe_place(session: Session, sub: AlertSubscription) -> Place:
    """Name a subscription's place in its language, with the /near link for it."""
    lang = sub.lang
    if sub.project_id is not None:
        name, lat, lon = session.execute(
            select(
                Project.name,
                func.ST_Y(func.ST_PointOnSurface(Project.geom)),
                func.ST_X(func.ST_PointOnSurface(Project.geom)),
            ).where(Project.id == sub.project_id)
        ).one()
        near = external_url(
            "near.near_page", lat=f"{lat:.6f}", lon=f"{lon:.6f}", radius=PROJECT_NEAR_RADIUS_M,
            lang=lang,
        )  # fmt: skip
        return Place(_("「%(name)s」", name=name), near)
    lat, lon = session.execute(select(func.ST_Y(sub.geom), func.ST_X(sub.geom))).one()
    place = find_place(session, sub.place_key) if sub.place_key else None
    if place is not None:
        where = place.label(lang)
        near = external_url("near.near_page", place=place.key, radius=sub.radius_m, lang=lang)
    else:
        where = _("北緯%(lat)s度・東経%(lon)s度の地点", lat=f"{lat:.4f}", lon=f"{lon:.4f}")
        near = external_url(
            "near.near_page", lat=f"{lat:.6f}", lon=f"{lon:.6f}", radius=sub.radius_m, lang=lang
        )
    label = _("%(where)sから%(radius)s以内", where=where, radius=distance_label(sub.radius_m))
    return Place(label, near)


@dataclass
class Change:
    """One public change, said in the subscriber's language."""

    headline: str
    project_name: str
    project_url: str
    when: str
    facts: list[tuple[str, str]] = field(default_factory=list)


def _status_headline(previous: str | None, status: str) -> str:
    if status == "completed":
        return _("工事が完了しました")
    if status == "construction":
        if previous in ("suspended", "completed"):
            return _("工事が再開されました")
        return _("工事が始まりました")
    return _("工事の状況が変わりました")


def describe_change(session: Session, event: OutboxEvent, lang: str) -> Change | None:
    """Say what an event changed; None when its project is no longer public."""
    project = session.get(Project, event.project_id)
    if project is None or not project.is_public:
        return None
    change = Change(
        headline="",
        project_name=project.name,
        project_url=external_url("web.project_page", project_id=project.id, lang=lang),
        when=moment_label(event.occurred_at, lang),
    )
    if event.kind == "status":
        details = event.details
        previous, status = details.get("previous_status"), details["status"]
        change.headline = _status_headline(previous, status)
        before = f"{status_label(previous)} → " if previous else ""
        change.facts.append((_("状況"), before + status_label(status)))
        change.facts.append((_("進捗"), f"{details.get('progress', 0)}%"))
        return change
    restriction = session.get(TrafficRestriction, event.restriction_id)
    if restriction is None:
        return None
    kind = restriction_label(restriction.kind)
    period = period_label(
        restriction.starts_on.isoformat(),
        restriction.ends_on and restriction.ends_on.isoformat(),
        lang,
    )
    if event.kind == "restriction_added":
        if restriction.starts_on > event.occurred_at.astimezone(JST).date():
            change.headline = _(
                "%(day)sから%(kind)sが始まります",
                day=day_label(restriction.starts_on, lang),
                kind=kind,
            )
        else:
            change.headline = _("%(kind)sが始まりました", kind=kind)
    elif event.kind == "restriction_lifted":
        change.headline = _("%(kind)sが解除されました", kind=kind)
    else:
        change.headline = _("通行規制の内容が変わりました")
    change.facts.append((_("規制"), kind))
    change.facts.append((_("期間"), period))
    change.facts.append((_("内容"), restriction.description))
    return change


def _links(sub: AlertSubscription) -> dict:
    token = subscription_token(sub.id)
    return {
        "manage_url": external_url("alerts.manage", token=token, lang=sub.lang),
        "unsubscribe_url": external_url("alerts.unsubscribe", token=token, lang=sub.lang),
    }


def _render(name: str, **context) -> tuple[str, str]:
    env = current_app.jinja_env
    text = env.get_template(f"alerts/mail/{name}.txt").render(**context)
    html = env.get_template(f"alerts/mail/{name}.html").render(**context)
    return text, html


def _message(sub: AlertSubscription, subject: str, text: str, html: str, links: dict):
    message = EmailMessage()
    sender = current_app.config["MAIL_FROM"]
    if "<" not in sender:
        local, _at, domain = sender.rpartition("@")
        sender = Address(_("阿蘇市 復旧・復興事業マップ"), local, domain)
    message["From"] = sender
    message["To"] = sub.email
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(JST))
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2].strip("> ") or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Content-Language"] = sub.lang
    # RFC 8058: a mail program may unsubscribe with one POST to this address, no cookie.
    message["List-Unsubscribe"] = f"<{links['unsubscribe_url']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def confirmation_mail(session: Session, sub: AlertSubscription) -> EmailMessage:
    """Write the one mail an unconfirmed subscription gets: the link that confirms it."""
    with force_locale(sub.lang):
        place = describe_place(session, sub)
        links = _links(sub)
        confirm_url = external_url(
            "alerts.confirm", token=subscription_token(sub.id), lang=sub.lang
        )
        text, html = _render(
            "confirm",
            place=place,
            topics=[_(TOPICS[t]) for t in sub.topics],
            frequency=_(FREQUENCIES[sub.frequency]),
            confirm_url=confirm_url,
            **links,
        )
        subject = _("[阿蘇市] お知らせメールの登録を確認してください")
        return _message(sub, subject, text, html, links)


def alert_mail(
    session: Session, sub: AlertSubscription, changes: list[Change], *, digest: bool
) -> EmailMessage:
    """Write one mail about one change, or a digest of several."""
    with force_locale(sub.lang):
        place = describe_place(session, sub)
        links = _links(sub)
        text, html = _render("alert", place=place, changes=changes, digest=digest, **links)
        if digest:
            subject = _(
                "[阿蘇市] %(place)sのお知らせ（%(n)s件）", place=place.label, n=len(changes)
            )
        else:
            subject = _(
                "[阿蘇市] %(headline)s（%(project)s）",
                headline=changes[0].headline,
                project=changes[0].project_name,
            )
        return _message(sub, subject, text, html, links)


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
