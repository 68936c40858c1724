"""Email outboxes: rows that owe someone an email, and the runs that send them.

A feature marks an email as due on its own row (a "due" column that is not
NULL), in the same commit that makes it due, so no email is lost if the queue
is down and no request pays for publishing a task. A Celery task then calls
``send_due``: it claims due rows in batches, sends each batch over one SMTP
connection and clears each row as its email goes out. The petition's signer
emails and the donation receipts are two such outboxes.
"""

import logging
import smtplib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_mail import Message
from kombu.exceptions import OperationalError as QueueUnavailable
from redis.exceptions import RedisError
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from campaign.email import sending
from campaign.extensions import db
from campaign.models import UTCDateTime, now_utc
from campaign.tasks import celery_app

log = logging.getLogger(__name__)
# Failures that mean "try again later", as opposed to a refused address.
TEMPORARY = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)


class OutboxMixin:
    """The usual outbox columns: a model adds ``notice`` (which email is due).

    ``Outbox.of(Model)`` is then its outbox.
    """

    # When we last emailed about this row (throttles resends).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which sender run has taken the email, and when (a stale claim is retaken).
    notice_claim: Mapped[str | None] = mapped_column(sa.String(32))
    notice_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Outbox:
    """One table's outbox: which column says an email is due, which hold claims."""

    model: type
    due: InstrumentedAttribute
    claim: InstrumentedAttribute
    claimed_at: InstrumentedAttribute
    # Extra values written when a row's email has gone out.
    on_sent: Callable[[], dict] = field(default=dict)

    @classmethod
    def of(cls, model: type[OutboxMixin]) -> "Outbox":
        """The outbox of a model with OutboxMixin's columns and a ``notice``."""
        return cls(
            model,
            due=model.notice,
            claim=model.notice_claim,
            claimed_at=model.notice_claimed_at,
        )

    def claim_due(self, limit: int) -> tuple[str, list]:
        """Take up to ``limit`` due emails for one sender run; return its claim."""
        claim = uuid.uuid4().hex
        now = now_utc()
        stale = now - timedelta(seconds=current_app.config["NOTICE_CLAIM_TIMEOUT"])
        unclaimed = sa.or_(self.claim.is_(None), self.claimed_at < stale)
        key = self.model.id
        due = (
            sa.select(key)
            .where(self.due.is_not(None), unclaimed)
            .order_by(key)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        # The outer condition is checked again on each locked row, so two runs
        # never take the same email.
        db.session.execute(
            sa.update(self.model)
            .where(key.in_(due), self.due.is_not(None), unclaimed)
            .values({self.claim: claim, self.claimed_at: now})
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        rows = db.session.scalars(
            sa.select(self.model).where(self.claim == claim).order_by(key)
        ).all()
        return claim, list(rows)

    def mark_sent(self, row_id: int, claim: str) -> None:
        """Record that this run sent the row's email (unless a newer one is due)."""
        db.session.execute(
            sa.update(self.model)
            .where(self.model.id == row_id, self.claim == claim)
            .values({self.due: None, self.claim: None, self.claimed_at: None})
            .values(self.on_sent())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def release(self, claim: str) -> None:
        """Give back what this run could not send, for the next run to retry."""
        db.session.rollback()
        db.session.execute(
            sa.update(self.model)
            .where(self.claim == claim)
            .values({self.claim: None, self.claimed_at: None})
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def send_due(outbox: Outbox, render: Callable[[object], Message]) -> int:
    """Send every due email of an outbox, batch by batch; return how many went."""
    sent = 0
    batch_size = current_app.config["NOTICE_BATCH_SIZE"]
    while True:
        claim, batch = outbox.claim_due(batch_size)
        if not batch:
            return sent
        try:
            sent += _send_batch(outbox, claim, batch, render)
        except TEMPORARY:
            log.warning(
                "SMTP unavailable; %d emails wait for the next run.", len(batch)
            )
            outbox.release(claim)
            return sent


def _send_batch(outbox: Outbox, claim: str, batch: list, render) -> int:
    """Send one claimed batch over one connection, clearing each row as it goes."""
    # Render first: each row's commit below would expire the loaded objects.
    messages = [(row.id, render(row)) for row in batch]
    with sending() as send:
        for row_id, message in messages:
            try:
                send(message)
            except smtplib.SMTPRecipientsRefused:
                log.warning("Address refused for %s %s", outbox.model.__name__, row_id)
            outbox.mark_sent(row_id, claim)
    return len(messages)


class Kicker:
    """Asks a worker to run a sender task now, at most once per interval.

    The interval (seconds, from the named setting) is per process, so a quiet
    site emails at once and a busy one in batches.
    """

    def __init__(self, interval_setting: str):
        """Remember which setting holds the interval."""
        self.interval_setting = interval_setting
        self.lock = threading.Lock()
        self.last = 0.0

    def __call__(self, task) -> None:
        """Queue ``task`` unless this process queued it just now."""
        interval = current_app.config[self.interval_setting]
        with self.lock:
            now = time.monotonic()
            if interval and now - self.last < interval:
                return
            self.last = now
        celery_app(current_app)
        try:
            # One attempt: with the broker down, Celery's default retries would
            # hold this request for most of a second, for an email that waits
            # in its row anyway.
            task.apply_async(retry_policy={"max_retries": 0})
        except (QueueUnavailable, RedisError, OSError) as error:
            # The email stays due: the beat schedule or the next kick sends it.
            log.warning("Queue unreachable (%s); emails wait for the next run.", error)
