"""An Atom feed (RFC 4287) of public status changes and new projects near a point."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from flask import url_for
from sqlalchemy.orm import Session

from tracker.core import clock
from tracker.core.translate import gettext as _
from tracker.near.queries import FeedEntry, recent_changes
from tracker.projects.queries import Circle
from tracker.restrictions.queries import RestrictionEvent, restriction_events
from tracker.serving.links import external_url
from tracker.words import wording
from tracker.words.vocab import restriction_label, status_label, status_plain

FEED_LIMIT = 50

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"
ET.register_namespace("", ATOM)
# XML 1.0 cannot carry these at all, not even escaped: one in a name would make the whole
# feed unreadable, so they are dropped from what the feed says.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    # ElementTree escapes text and attribute values, so names cannot break the XML.
    attrs = {name: NOT_XML.sub("", value) for name, value in attrs.items()}
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = NOT_XML.sub("", text)
    return element


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def circle_url(
    endpoint: str, circle: Circle, locale: str, *, external: bool = False, **url_args: Any
) -> str:
    """Return the URL of the page or the feed for a circle; an English reader's stays English."""
    if locale != "ja":
        url_args["lang"] = locale
    build = external_url if external else url_for
    return build(
        endpoint,
        lat=f"{circle.lat:.5f}",
        lon=f"{circle.lon:.5f}",
        radius=f"{circle.radius_m:g}",
        **url_args,
    )


def _when(entry: FeedEntry | RestrictionEvent) -> datetime:
    return entry.observed_at if isinstance(entry, FeedEntry) else entry.recorded_at


def feed_entries(session: Session, circle: Circle) -> list[FeedEntry | RestrictionEvent]:
    """Return the feed's entries, newest first: status changes, new projects and traffic
    restrictions added, changed or lifted."""
    entries = recent_changes(session, circle, FEED_LIMIT) + restriction_events(
        session, circle.lon, circle.lat, circle.radius_m, FEED_LIMIT
    )
    return sorted(entries, key=_when, reverse=True)[:FEED_LIMIT]


def feed_title(circle: Circle) -> str:
    """Name the feed (and its page) by its radius."""
    radius = wording.distance_label(circle.radius_m)
    return _("阿蘇市 近くの工事（半径 %(radius)s）", radius=radius)


@dataclass(frozen=True)
class FeedItem:
    """An entry as the feed's page shows it: title, when, where it links, what it says, and
    the staff's own words (Japanese) apart."""

    title: str
    when: datetime
    link: str
    summary: str
    quoted: str | None = None


def feed_items(entries: list[FeedEntry | RestrictionEvent], locale: str) -> list[FeedItem]:
    """Say each entry as the Atom feed does, for the feed's page in a browser."""
    items = []
    for entry in entries:
        link = url_for("web.project_page", project_id=entry.project_id)
        if isinstance(entry, FeedEntry):
            items.append(
                FeedItem(_status_title(entry), entry.observed_at, link, _status_summary(entry))
            )
        else:
            items.append(
                FeedItem(
                    _restriction_title(entry),
                    entry.recorded_at,
                    link,
                    _restriction_period(entry, locale) + ": ",
                    entry.description,
                )
            )
    return items


def build_feed(session: Session, circle: Circle, locale: str) -> bytes:
    """Return the feed as UTF-8 XML, newest entry first: status changes, new projects and
    traffic restrictions added, changed or lifted. Browsers are answered the feed's page
    (feed_items) instead: no stylesheet is referenced."""
    entries = feed_entries(session, circle)
    # The feed's id is its own canonical address, whatever order or extra arguments the request
    # came with: the same circle in the same language is always the same feed.
    feed_url = circle_url("near.near_feed", circle, locale, external=True)
    root = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": locale})
    _el(root, "id", feed_url)
    _el(root, "title", feed_title(circle))
    _el(
        root,
        "subtitle",
        _("指定した地点の周りの公共工事の状況の変化と新しい事業。"),
    )
    newest = _when(entries[0]) if entries else clock.now()
    _el(root, "updated", _iso(newest))
    _el(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    page = circle_url("near.near_page", circle, locale, external=True)
    _el(root, "link", rel="alternate", type="text/html", href=page)
    author = _el(root, "author")
    _el(author, "name", _("阿蘇市"))
    for entry in entries:
        if isinstance(entry, FeedEntry):
            _entry(root, entry, locale)
        else:
            _restriction_entry(root, entry, locale)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}'.encode()


def _page_link(link: str, locale: str) -> str:
    """Return a work's page address in the feed's language: its id stays the plain address."""
    return link if locale == "ja" else f"{link}?lang={locale}"


def _status_title(entry: FeedEntry) -> str:
    status = status_label(entry.status)
    if entry.previous_status is None:
        title = _("新しい事業: %(name)s（%(status)s）", name=entry.name, status=status)
    elif entry.previous_status == entry.status:
        # A progress report without a change of status.
        title = _(
            "%(name)s: 進捗 %(progress)s%%（%(status)s）",
            name=entry.name,
            progress=entry.progress,
            status=status,
        )
    else:
        title = _(
            "%(name)s: %(old)s → %(new)s",
            name=entry.name,
            old=status_label(entry.previous_status),
            new=status,
        )
    if entry.is_sample:
        title += " " + _("［サンプル］")
    return title


def _status_summary(entry: FeedEntry) -> str:
    return _(
        "%(plain)s（進捗 %(progress)s%%）",
        plain=status_plain(entry.status),
        progress=entry.progress,
    )


def _entry(root: ET.Element, entry: FeedEntry, locale: str) -> None:
    item = _el(root, "entry")
    link = external_url("web.project_page", project_id=entry.project_id)
    _el(item, "id", f"{link}#status-update-{entry.id}")
    _el(item, "title", _status_title(entry))
    _el(item, "updated", _iso(entry.observed_at))
    _el(item, "published", _iso(entry.observed_at))
    _el(item, "link", rel="alternate", type="text/html", href=_page_link(link, locale))
    _el(item, "summary", _status_summary(entry))


def _restriction_title(event: RestrictionEvent) -> str:
    kind, name = restriction_label(event.kind), event.project_name
    if event.action == "create":
        title = _("新しい通行規制: %(kind)s（%(name)s）", kind=kind, name=name)
    elif event.action == "lift":
        title = _("通行規制の解除: %(kind)s（%(name)s）", kind=kind, name=name)
    else:
        title = _("通行規制の変更: %(kind)s（%(name)s）", kind=kind, name=name)
    if event.is_sample:
        title += " " + _("［サンプル］")
    return title


def _restriction_period(event: RestrictionEvent, locale: str) -> str:
    return wording.period_label(
        event.starts_on.isoformat(), event.ends_on.isoformat() if event.ends_on else None, locale
    )


def _restriction_entry(root: ET.Element, event: RestrictionEvent, locale: str) -> None:
    item = _el(root, "entry")
    link = external_url("web.project_page", project_id=event.project_id)
    _el(item, "id", f"{link}#restriction-change-{event.id}")
    _el(item, "title", _restriction_title(event))
    _el(item, "updated", _iso(event.recorded_at))
    _el(item, "published", _iso(event.recorded_at))
    _el(item, "link", rel="alternate", type="text/html", href=_page_link(link, locale))
    period = _restriction_period(event, locale)
    _el(item, "summary", f"{period}: {event.description}")
    # The same as marked-up content, with the staff's words marked as Japanese: an English
    # reader's feed (and its page) tells its own words from the data it quotes.
    content = _el(item, "content", type="xhtml")
    div = ET.SubElement(content, f"{{{XHTML}}}div")
    div.text = f"{period}: "
    words = ET.SubElement(div, f"{{{XHTML}}}span", {"lang": "ja"})
    words.text = NOT_XML.sub("", event.description)
