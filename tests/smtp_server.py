"""A real SMTP server (aiosmtpd) inside the test process, which keeps what it receives and can
refuse on demand."""

import asyncio
import email
import email.policy
import socket
import threading
from contextlib import contextmanager

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """The server's handler: keeps accepted messages; answers with queued refusals first."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.data_replies: list[str] = []  # e.g. "451 4.3.0 try later", used up one by one
        self.refused: dict[str, str] = {}  # address -> the reply that refuses it, every time
        self.attempts = 0
        # Set while two mails are being received at once (see hold_first).
        self.hold_first = False
        self.overlapped = False
        self._second = None
        # hold_at = n: the n-th mail is kept, then its "accepted" answer waits for `release`:
        # the moment a sender can be stopped between the server's acceptance and its own record.
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            self.attempts += 1
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        if self.hold_at == len(self.messages):
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
        if self.hold_first:
            # The first mail is answered only once a second one arrives: two senders are
            # then provably at work at the same moment.
            if self._second is None:
                self._second = asyncio.Event()
                try:
                    await asyncio.wait_for(self._second.wait(), timeout=10)
                    self.overlapped = True
                except TimeoutError:
                    pass
            else:
                self._second.set()
        return "250 Message accepted"

    def to(self, address: str) -> list:
        """Return the messages received for an address."""
        return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server():
    """Run an SMTP server on a free local port; yield (mailbox, SMTP_URL)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, f"smtp://127.0.0.1:{port}"
    finally:
        mailbox.release.set()
        controller.stop()
