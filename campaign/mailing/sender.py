"""The broadcast sending engine: claim a batch, send it over one connection.

Runs in Celery workers (tasks.py) and in ``flask campaign send-broadcast``;
any number of runs may work on one broadcast at once (see ledger.py for why
nobody gets two copies).
"""

import logging
import smtplib
import time
from collections.abc import Callable
from concurrent.futures import Future, wait

from flask import current_app
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from campaign.email import raw_sending
from campaign.extensions import limiter
from campaign.mailing import ledger
from campaign.mailing.broadcasts import finish_if_done, get_broadcast
from campaign.mailing.compose import BroadcastMessages
from campaign.mailing.models import Audience, BroadcastState
from campaign.mailing.signer_updates import update_messages
from campaign.outbox import TEMPORARY

log = logging.getLogger(__name__)


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached; the run gave its claim back."""


class Throttle:
    """At most BROADCAST_RATE messages per second across all workers.

    The count lives in the rate limiter's storage (Redis in production), so
    every worker shares one budget; 0 turns throttling off. While that storage
    is unreachable each run counts in its own memory (so the budget holds per
    worker, not across them) and tries the shared one again every few seconds.
    """

    # Seconds between attempts to reach the shared storage again.
    RETRY_SHARED = 5.0

    def __init__(self, rate: int):
        """Set the budget, in messages per second."""
        self.item = RateLimitItemPerSecond(rate) if rate else None
        self.local = FixedWindowRateLimiter(MemoryStorage())
        self.shared_again_at = 0.0

    def wait(self) -> None:
        """Return once one more message may go out."""
        if self.item is None:
            return
        while not self._hit():
            time.sleep(1 / self.item.amount)

    def _hit(self) -> bool:
        """Count one message in the shared budget, or the local one without it."""
        if time.monotonic() >= self.shared_again_at:
            try:
                return limiter.limiter.hit(self.item, "broadcast-send")
            except (RedisError, StorageError, OSError) as error:
                log.warning(
                    "Throttle storage unreachable (%s); counting locally.", error
                )
                self.shared_again_at = time.monotonic() + self.RETRY_SHARED
        return self.local.hit(self.item, "broadcast-send")


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
    # Each reader's language, else English; a petition update's with its links.
    message = (
        update_messages(broadcast)
        if broadcast.audience is Audience.PETITION_UPDATES
        else BroadcastMessages(broadcast)
    )
    throttle = Throttle(current_app.config["BROADCAST_RATE"])
    batch_size = current_app.config["BROADCAST_BATCH_SIZE"]
    sent = 0
    with ledger.Background() as background:
        # Unthrottled, the next batch is claimed while this one goes out;
        # throttled, a claim taken that early could go stale before its turn.
        batches = Batches(broadcast_id, batch_size, background, throttle.item is None)
        for claim, batch in batches:
            try:
                sent += _send_batch(
                    message, claim, batch, throttle, on_progress, background
                )
            except TEMPORARY as error:
                log.warning(
                    "SMTP unavailable (%s); broadcast %s waits.", error, broadcast_id
                )
                batches.give_back()
                raise SmtpUnavailable from error
    finish_if_done(broadcast_id)
    return sent


class Batches:
    """The batches a run claims, in id order, each claimed on the ledger thread."""

    def __init__(self, broadcast_id: int, size: int, background, ahead: bool):
        """Claim ``size`` rows at a time; ``ahead``: claim the next in advance."""
        self.broadcast_id, self.size = broadcast_id, size
        self.background, self.ahead = background, ahead
        self.upcoming: Future | None = None

    def __iter__(self):
        """Yield ``(claim, recipients)`` until nothing is left to claim."""
        upcoming = self._claim(after=0)
        while True:
            claim, batch = upcoming.result()
            if not batch:  # look again from the start, for rows put back
                claim, batch = ledger.claim(self.broadcast_id, self.size)
            if not batch:
                return
            after = batch[-1].delivery_id
            self.upcoming = self._claim(after) if self.ahead else None
            yield claim, batch
            upcoming = self.upcoming or self._claim(after)

    def give_back(self) -> None:
        """Release the claim taken in advance, when the run stops early."""
        if self.upcoming is not None:
            token = self.upcoming.result()[0]
            self.background.in_context(ledger.release, token)

    def _claim(self, after: int) -> Future:
        return self.background.in_context(
            ledger.claim, self.broadcast_id, self.size, after
        )


def _send_batch(message, claim, batch, throttle, on_progress, background) -> int:
    """Send one claimed batch over one SMTP connection, a step at a time.

    The step letting step k+1 go out (and recording what SMTP accepted up to
    step k-1) is committed on the background thread while step k goes out;
    so at most two steps, one window, are past the committed ``accepted``.
    With a window of 1 each step is waited for before its copy goes.
    """
    window = current_app.config["BROADCAST_WINDOW"]
    ahead = window >= 2
    size = window // 2 if ahead else 1
    steps = [batch[start : start + size] for start in range(0, len(batch), size)]
    run = ledger.Steps(claim)
    accepted = 0  # the last delivery id SMTP accepted
    sent = 0
    step = background.step(run.advance, steps[0][-1].delivery_id, accepted)
    try:
        with raw_sending() as send:
            for number, recipients in enumerate(steps):
                if not step.result():
                    break  # the claim was taken from this run: stop here
                following = steps[number + 1] if number + 1 < len(steps) else None
                if ahead and following:
                    step = background.step(
                        run.advance, following[-1].delivery_id, accepted
                    )
                for recipient in recipients:
                    if _send_one(send, message, claim, recipient, throttle):
                        accepted = recipient.delivery_id
                        sent += 1
                        if on_progress:
                            on_progress(1)
                if following and not ahead:
                    step = background.step(
                        run.advance, following[-1].delivery_id, accepted
                    )
    finally:
        wait([step])  # the step in flight lands before the run is settled
        run.close()
        # Also after an error, so what SMTP accepted is recorded.
        background.in_context(ledger.settle, claim, accepted)
    return sent


def _send_one(send, message, claim: str, recipient, throttle) -> bool:
    """Hand one copy to SMTP; record a refusal; say whether it was accepted."""
    throttle.wait()
    version = message.for_locale(recipient.locale)
    try:
        send(
            version.sender,
            recipient.email,
            version.for_recipient(recipient.email, recipient.token, recipient.withdraw),
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
