"""The broadcast sending engine: claim a batch, send it over one connection.

Runs in Celery workers (tasks.py) and in ``flask campaign send-broadcast``;
any number of runs may work on one broadcast at once (see ledger.py for why
nobody gets two copies).
"""

import logging
import smtplib
import time
from collections.abc import Callable

from flask import current_app
from limits import RateLimitItemPerSecond

from campaign.email import raw_sending
from campaign.extensions import limiter
from campaign.mailing import ledger
from campaign.mailing.broadcasts import finish_if_done, get_broadcast
from campaign.mailing.compose import BulkMessage
from campaign.mailing.models import BroadcastState
from campaign.outbox import TEMPORARY

log = logging.getLogger(__name__)


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached; the run gave its claim back."""


class Throttle:
    """At most BROADCAST_RATE messages per second across all workers.

    The count lives in the rate limiter's storage (Redis in production), so
    every worker shares one budget; 0 turns throttling off.
    """

    def __init__(self, rate: int):
        """Set the budget, in messages per second."""
        self.item = RateLimitItemPerSecond(rate) if rate else None

    def wait(self) -> None:
        """Return once one more message may go out."""
        if self.item is None:
            return
        while not limiter.limiter.hit(self.item, "broadcast-send"):
            time.sleep(1 / self.item.amount)


def is_permanent(code: int) -> bool:
    """SMTP 5xx replies are final; 4xx ones mean "try later"."""
    return 500 <= code < 600


def send_broadcast(broadcast_id: int, on_progress: Callable[[int], None] = None) -> int:
    """Send every pending copy of a broadcast; return how many were accepted.

    Raises SmtpUnavailable if the server went away (nothing is lost: the
    unsent copies stay pending for the next run).
    """
    broadcast = get_broadcast(broadcast_id)
    if broadcast is None or broadcast.state is not BroadcastState.SENDING:
        return 0
    ledger.recover_stale(broadcast_id)
    message = BulkMessage(broadcast.subject, broadcast.body_markdown)
    throttle = Throttle(current_app.config["BROADCAST_RATE"])
    batch_size = current_app.config["BROADCAST_BATCH_SIZE"]
    sent = 0
    while True:
        claim, batch = ledger.claim(broadcast_id, batch_size)
        if not batch:
            break
        try:
            sent += _send_batch(message, claim, batch, throttle, on_progress)
        except TEMPORARY as error:
            log.warning(
                "SMTP unavailable (%s); broadcast %s waits.", error, broadcast_id
            )
            ledger.release(claim)
            raise SmtpUnavailable from error
    finish_if_done(broadcast_id)
    return sent


def _send_batch(message, claim, batch, throttle, on_progress) -> int:
    """Send one claimed batch over one SMTP connection, a window at a time."""
    size = current_app.config["BROADCAST_WINDOW"]
    marks = ledger.Marks(claim)
    accepted: list[int] = []  # accepted by SMTP, recorded with the next step
    sent = 0
    try:
        with raw_sending() as send:
            for start in range(0, len(batch), size):
                window = batch[start : start + size]
                ids = [recipient.delivery_id for recipient in window]
                mine = marks.advance(accepted, ids)
                accepted = []
                for recipient in window:
                    if recipient.delivery_id not in mine:
                        continue  # another run has taken this one
                    if _send_one(send, message, claim, recipient, throttle):
                        accepted.append(recipient.delivery_id)
                        sent += 1
                        if on_progress:
                            on_progress(1)
            marks.advance(accepted, [])
            accepted = []
    finally:
        if accepted:  # an error mid-window: never lose what SMTP accepted
            marks.advance(accepted, [])
        marks.close()
    return sent


def _send_one(send, message, claim: str, recipient, throttle) -> bool:
    """Hand one copy to SMTP; record a refusal; say whether it was accepted."""
    throttle.wait()
    try:
        send(
            message.sender,
            recipient.email,
            message.for_recipient(recipient.email, recipient.token),
        )
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        _refused(claim, recipient.delivery_id, code, reply)
        return False
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
        _refused(claim, recipient.delivery_id, error.smtp_code, error.smtp_error)
        return False
    return True


def _refused(claim: str, delivery_id: int, code: int, reply: bytes | str) -> None:
    """Record an SMTP refusal: final for 5xx, retried later for 4xx."""
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    error = f"{code} {reply}"
    if is_permanent(code):
        ledger.fail(claim, delivery_id, error)
    else:
        ledger.retry_later(claim, delivery_id, error)
