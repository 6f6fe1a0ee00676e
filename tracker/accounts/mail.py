"""Mails to people with accounts: invitations, reset links, notices of changes.

A mail is written during the request and handed over only once the request's transaction
is committed (a link in a mail must exist by the time it is opened; a refused request sends
nothing). It then goes to SMTP_URL from a thread of its own, so that the answer does not
wait for the mail server — and "forgot password" answers as fast for an unknown address.
With DEV_MAIL=1 mails are kept as .eml files in DEV_MAIL_DIR instead, for development.
Nothing is logged of a mail but its recipient, its subject and whether it left.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.accounts.models import User
from tracker.core import clock
from tracker.core.smtp import SmtpTransport, parse_smtp_url
from tracker.core.translate import force_locale

log = logging.getLogger("tracker.mail")

_sender: ThreadPoolExecutor | None = None
_sender_lock = threading.Lock()
_sent: list[Future] = []  # what this process handed over, for wait_for_mails
PENDING = "mails_after_commit"


def account_mail(
    user: User, template: str, address: str | None = None, **context: object
) -> EmailMessage:
    """Write the mail `accounts/mail/<template>.txt` to the person, in their language.

    The template's first line is the subject; the rest is the body.
    """
    with force_locale(user.language):
        subject, _, body = render_template(
            f"accounts/mail/{template}.txt", user=user, **context
        ).partition("\n")
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = address or user.email or ""
    message["Subject"] = subject.strip()
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain="aso-tracker")
    message.set_content(body.lstrip("\n"))
    return message


def tell_account_changed(session: Session, user: User, what: Callable[[], str]) -> None:
    """Mail the person that their account changed (after commit), if they have an address.

    `what` says how, and is called in the person's language: a change an admin made from an
    English page still reaches a Japanese reader in Japanese.
    """
    if not user.email:
        return
    with force_locale(user.language):
        text = what()
    send_after_commit(session, account_mail(user, "account_changed", what=text))


def send_after_commit(session: Session, message: EmailMessage) -> None:
    """Hand the mail over once this session's transaction is committed (never if rolled back)."""
    if not message["To"]:
        log.warning("mail not sent: no address subject=%r", message["Subject"])
        return
    if PENDING not in session.info:
        session.info[PENDING] = []
        event.listen(session, "after_commit", _deliver_pending)
        event.listen(session, "after_rollback", _drop_pending)
    session.info[PENDING].append(_delivery(message))


def _deliver_pending(session: Session) -> None:
    pending, session.info[PENDING] = session.info[PENDING], []
    for deliver in pending:
        deliver()


def _drop_pending(session: Session) -> None:
    session.info[PENDING] = []


def _delivery(message: EmailMessage) -> Callable[[], None]:
    """Return what hands this mail over, bound to the app's settings of now."""
    config = current_app.config
    to, subject = message["To"], message["Subject"]
    if config.get("DEV_MAIL"):
        folder = Path(config["DEV_MAIL_DIR"])

        def keep() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{clock.now():%Y%m%dT%H%M%S}-{message['Message-ID'].strip('<>')}.eml"
            path.write_bytes(bytes(message))
            log.info("mail kept (DEV_MAIL) to=%s subject=%r file=%s", to, subject, path)

        return keep
    if not config["SMTP_URL"]:
        return lambda: log.warning(
            "SMTP_URL is not set: mail not sent to=%s subject=%r", to, subject
        )
    settings, ca_file = parse_smtp_url(config["SMTP_URL"]), config["SMTP_CA_FILE"]

    def send() -> None:
        transport = SmtpTransport(settings, ca_file)
        try:
            transport.send(message)
            log.info("mail sent to=%s subject=%r", to, subject)
        except Exception as error:  # noqa: BLE001 (a mail that fails must not end the thread)
            log.error("mail not sent to=%s subject=%r: %s", to, subject, error)
        finally:
            transport.close()

    return lambda: _submit(send)


def _submit(send: Callable[[], None]) -> None:
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
        _sent.append(_sender.submit(send))


def wait_for_mails(timeout: float = 30) -> None:
    """Wait until every mail handed over so far has left (or failed); for tests and scripts."""
    while _sent:
        _sent.pop(0).result(timeout=timeout)
