"""Write the mails: a confirmation request, one change, or a day's changes in one digest.

Every mail has a plain-text part people can read as it is and an HTML part, in the
subscriber's language; it names the place, says what changed and when, links to the work
and to /near for the place, and carries a one-click unsubscribe (RFC 8058) and a link to
manage the subscription (each its own token: tracker.alerts.tokens). Only public fields go
in: names, statuses, restriction notices.
"""

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.alerts.changes import Change
from tracker.alerts.models import FREQUENCIES, TOPICS, AlertSubscription
from tracker.alerts.tokens import LIFETIMES, token_for
from tracker.city.places import find_place
from tracker.core import clock
from tracker.core.translate import force_locale
from tracker.core.translate import gettext as _
from tracker.projects.models import Project
from tracker.serving.links import external_url
from tracker.words.wording import distance_label

# The radius of /near opened from a mail about one project.
PROJECT_NEAR_RADIUS_M = 1000


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
    if sub.radius_m is None:
        raise ValueError(f"subscription {sub.id} watches a place but has no radius")
    label = _("%(where)sから%(radius)s以内", where=where, radius=distance_label(sub.radius_m))
    return Place(label, near)


def _links(sub: AlertSubscription) -> dict:
    return {
        "manage_url": external_url("alerts.manage", token=token_for("manage", sub), lang=sub.lang),
        "unsubscribe_url": _unsubscribe_url(sub),
    }


def _unsubscribe_url(sub: AlertSubscription) -> str:
    return external_url("alerts.unsubscribe", token=token_for("unsubscribe", sub), lang=sub.lang)


def _render(name: str, **context: Any) -> tuple[str, str]:
    env = current_app.jinja_env
    text = env.get_template(f"alerts/mail/{name}.txt").render(**context)
    html = env.get_template(f"alerts/mail/{name}.html").render(**context)
    return text, html


def _message(
    sub: AlertSubscription, subject: str, text: str, html: str, links: dict
) -> EmailMessage:
    message = EmailMessage()
    sender = current_app.config["MAIL_FROM"]
    if "<" not in sender:
        local, _at, domain = sender.rpartition("@")
        sender = Address(_("阿蘇市 復旧・復興事業マップ"), local, domain)
    message["From"] = sender
    message["To"] = sub.email
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now_jst())
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
        # No manage link: there is nothing to manage before the confirmation.
        links = {"unsubscribe_url": _unsubscribe_url(sub)}
        confirm_url = external_url("alerts.confirm", token=token_for("confirm", sub), lang=sub.lang)
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


def manage_link_mail(session: Session, sub: AlertSubscription) -> EmailMessage:
    """Write the mail that carries a new link to a subscription's settings, as asked for from
    an expired one."""
    with force_locale(sub.lang):
        place = describe_place(session, sub)
        links = _links(sub)
        lifetime = LIFETIMES["manage"]
        days = lifetime.days if lifetime else 0
        text, html = _render("manage", place=place, days=days, **links)
        subject = _("[阿蘇市] お知らせメールの設定用のリンク")
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
