"""Sending mail over SMTP, with the server's answers sorted into what to do next.

SMTP_URL names the server:
  smtp://host:port                      plain, for a relay or catch-all on this machine
  smtp+starttls://user:pass@host:587    STARTTLS (certificate checked), then login if given
  smtps://user:pass@host:465            TLS from the start, then login if given
"""

import contextlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}
DEFAULT_PORTS = {"plain": 25, "starttls": 587, "tls": 465}
TIMEOUT_S = 30


class TemporaryRefusal(Exception):
    """The server refused this mail for now (4xx): try again later."""


class PermanentRefusal(Exception):
    """The server refused this mail for good (5xx): do not try again."""


class ServerUnavailable(Exception):
    """The server cannot be reached or refuses us as a whole: stop and leave the queue as is."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand mail over."""

    host: str
    port: int
    security: str  # plain, starttls or tls
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read SMTP_URL, refusing one that would send a password in the clear."""
    parts = urlsplit(url)
    security = SCHEMES.get(parts.scheme)
    if security is None:
        raise ValueError(
            f"SMTP_URL: the scheme must be one of {', '.join(SCHEMES)}, not {parts.scheme!r}"
        )
    if not parts.hostname:
        raise ValueError("SMTP_URL: no host name")
    username = unquote(parts.username) if parts.username else None
    if username and security == "plain":
        raise ValueError(
            "SMTP_URL: a login needs TLS; use smtp+starttls:// or smtps:// with a user name"
        )
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[security],
        security=security,
        username=username,
        password=unquote(parts.password) if parts.password else None,
    )


def _refusal(code: int, text: bytes | str) -> Exception:
    message = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    if code == 421:  # the server is closing the connection: nothing to do with this mail
        return ServerUnavailable(message)
    return TemporaryRefusal(message) if 400 <= code < 500 else PermanentRefusal(message)


class SmtpTransport:
    """One connection to the mail server, opened on first use and reused for every mail."""

    def __init__(self, settings: SmtpSettings, ca_file: str | None = None) -> None:
        self.settings = settings
        self.ca_file = ca_file
        self._smtp: smtplib.SMTP | None = None

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=TIMEOUT_S, context=self._tls()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_S)
                if s.security == "starttls":
                    smtp.starttls(context=self._tls())
            if s.username:
                smtp.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise ServerUnavailable(f"login refused: {error.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise ServerUnavailable(f"{s.host}:{s.port}: {error}") from None
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Hand one mail over, or raise TemporaryRefusal, PermanentRefusal or ServerUnavailable."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            code, text = min(error.recipients.values())
            raise _refusal(code, text) from None
        except smtplib.SMTPResponseException as error:
            self._reset()
            raise _refusal(error.smtp_code, error.smtp_error) from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise ServerUnavailable(str(error)) from None

    def _reset(self) -> None:
        # A refused mail leaves the transaction half open; the next one needs a clean start.
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None


def configured_transport(config: Mapping[str, Any]) -> SmtpTransport | None:
    """Return the transport the app's SMTP_URL names, or None when it is unset (the mails then
    stay on this machine). A malformed URL raises ValueError, saying what is wrong."""
    url = config.get("SMTP_URL")
    if not url:
        return None
    return SmtpTransport(parse_smtp_url(url), config.get("SMTP_CA_FILE"))
