"""
A real SMTP server on loopback (aiosmtpd), for the tests and the reliability
script: it keeps every message it accepts, with the time it arrived, and can
be stopped and started again on the same port to play an outage.
"""

import asyncio
import email
import email.message
import email.policy
import logging
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from testing.postgres import free_port


@dataclass
class Received:
    at: float  # time.monotonic() when the server accepted it
    to: list[str]
    message: email.message.EmailMessage

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        if part is None:
            raise ValueError("the message has no text/plain part")
        return str(part.get_content())


class Inbox:
    """
    aiosmtpd's handler: accept every message, after delay seconds.

    A client that hangs up during the delay never gets its 250: aiosmtpd
    cancels the handler, and the message counts as started, not received.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.started = 0  # messages whose DATA began
        self.delay = 0.0
        self.changed = threading.Condition()

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.started += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        with self.changed:
            self.received.append(
                Received(time.monotonic(), list(envelope.rcpt_tos), message)
            )
            self.changed.notify_all()
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Return the messages once there are count of them; raise on timeout."""
        with self.changed:
            if not self.changed.wait_for(
                lambda: len(self.received) >= count, timeout=timeout
            ):
                raise TimeoutError(
                    f"{len(self.received)} of {count} messages after {timeout} s"
                )
            return list(self.received)


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1, on a port that stays its own."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> "SmtpServer":
        # aiosmtpd logs every SMTP command at info.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self._controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def environment(self) -> dict[str, str]:
        """Return the variables that point keel's mail at this server."""
        return {
            "KEEL_EMAIL": "smtp",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_TIMEOUT": "5",
            "DEFAULT_FROM_EMAIL": "Keel <noreply@example.com>",
        }
