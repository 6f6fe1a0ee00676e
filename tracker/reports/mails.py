"""The reporter's mails: one to confirm the address, then one per change of state.

A mail goes only to a confirmed address, carries a one-click unsubscribe (RFC 8058) that
forgets the address, and says the report's state and the city's answer: public words only.
`send_report_mails` sends what waits, one mail per transaction (row locked, sent, marked,
committed), so two senders never send one mail twice.
"""

from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts.sending import MailTransport
from tracker.core import clock
from tracker.core.smtp import PermanentRefusal, ServerUnavailable, TemporaryRefusal
from tracker.core.translate import force_locale
from tracker.core.translate import gettext as _
from tracker.reports.links import make_link_token
from tracker.reports.models import STATES, Report, ReportMail, ReportStateChange
from tracker.serving.links import external_url

MAX_ATTEMPTS = 8


@dataclass
class SendCount:
    """What one run sent."""

    sent: int = 0
    failed: int = 0
    stopped: str = ""
    errors: list[str] = field(default_factory=list)


def report_mail(session: Session, mail: ReportMail) -> EmailMessage | None:
    """Write one mail of a report, or None when it is no longer owed."""
    report = session.get(Report, mail.report_id)
    if report is None or report.email is None:
        return None
    if mail.kind == "state" and report.email_confirmed_at is None:
        return None
    with force_locale(report.lang):
        unsubscribe_url = external_url(
            "reports.unsubscribe",
            token=make_link_token("unsubscribe", report.id, report.link_nonce),
            lang=report.lang,
        )
        report_url = external_url("reports.public_report", report_id=report.id, lang=report.lang)
        context = {
            "report": report,
            "category": report.category.label(report.lang),
            "unsubscribe_url": unsubscribe_url,
            "report_url": report_url,
        }
        if mail.kind == "confirm":
            context["confirm_url"] = external_url(
                "reports.confirm",
                token=make_link_token("confirm", report.id, report.link_nonce),
                lang=report.lang,
            )
            subject = _("[阿蘇市] 通報のお知らせメールの確認")
        else:
            change = session.get(ReportStateChange, mail.state_change_id)
            if change is None:
                return None
            context["state"] = _(STATES[change.state])
            context["note"] = change.note
            subject = _(
                "[阿蘇市] 通報 %(id)d は「%(state)s」になりました",
                id=report.id,
                state=_(STATES[change.state]),
            )
        template = current_app.jinja_env.get_template(f"reports/mail/{mail.kind}.txt")
        text = template.render(**context)
        message = EmailMessage()
        sender = current_app.config["MAIL_FROM"]
        if "<" not in sender:
            local, _at, domain = sender.rpartition("@")
            sender = Address(_("阿蘇市 復旧・復興事業マップ"), local, domain)
        message["From"] = sender
        message["To"] = report.email
        message["Subject"] = subject
        message["Date"] = format_datetime(clock.now_jst())
        domain = current_app.config["MAIL_FROM"].rpartition("@")[2].strip("> ") or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
        message["Content-Language"] = report.lang
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        return message


def send_report_mails(sessions: sessionmaker, transport: MailTransport | None) -> SendCount:
    """Send the reporters' mails that wait, one per transaction; stop when the server cannot
    be used. Without a transport nothing is sent."""
    count = SendCount()
    if transport is None:
        return count
    skipped: set[int] = set()
    try:
        while True:
            with sessions() as session, session.begin():
                query = select(ReportMail).where(ReportMail.status == "waiting")
                if skipped:
                    query = query.where(ReportMail.id.notin_(skipped))
                mail = session.scalar(
                    query.order_by(ReportMail.id).limit(1).with_for_update(skip_locked=True)
                )
                if mail is None:
                    break
                message = report_mail(session, mail)
                if message is None:
                    session.delete(mail)
                    continue
                try:
                    transport.send(message)
                except TemporaryRefusal as error:
                    mail.attempts += 1
                    mail.error = str(error)[:500]
                    if mail.attempts >= MAX_ATTEMPTS:
                        mail.status = "failed"
                    skipped.add(mail.id)
                    count.failed += 1
                    continue
                except PermanentRefusal as error:
                    mail.status, mail.error = "failed", str(error)[:500]
                    count.failed += 1
                    continue
                mail.status, mail.sent_at = "sent", clock.now()
                count.sent += 1
    except ServerUnavailable as error:
        count.stopped = str(error)
    finally:
        transport.close()
    return count
