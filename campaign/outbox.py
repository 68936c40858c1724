"""The email outbox: rows that owe someone an email, and the runs sending them.

A feature marks an email as due on its own row (a ``notice`` column) in the
same commit that makes it due, so no email is lost if the queue is down and no
request pays for publishing a task. A Celery task then calls ``send_due``: it
claims due rows in batches, sends each batch over one SMTP connection and
clears each row as its email goes out. A claim left by a crashed run is
retaken after NOTICE_CLAIM_TIMEOUT, so delivery is at least once.

Tasks are also "kicked" after a row becomes due, at most once per
NOTICE_KICK_INTERVAL per process, so a quiet site emails at once and a busy
one in batches; the beat schedule catches anything a kick missed.
"""

import logging
import smtplib
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_mail import Message
from kombu.exceptions import OperationalError as QueueUnavailable
from sqlalchemy.orm import Mapped, mapped_column

from campaign.email import sending
from campaign.extensions import db
from campaign.models import UTCDateTime, now_utc

log = logging.getLogger(__name__)
# Failures that mean "try again later", as opposed to a refused address.
TEMPORARY = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)
_kick_lock = threading.Lock()
_last_kick: dict[str, float] = {}


class OutboxMixin:
    """Columns of a row that may owe its owner an email.

    The model adds ``notice``: which email is due (an enum), or None.
    """

    # When we last emailed about this row (throttles resends).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which sender run has taken the email, and when (a stale claim is retaken).
    notice_claim: Mapped[str | None] = mapped_column(sa.String(32))
    notice_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def claim_due(model, limit: int) -> tuple[str, list]:
    """Take up to ``limit`` due emails for one sender run; return its claim."""
    claim = uuid.uuid4().hex
    now = now_utc()
    stale = now - timedelta(seconds=current_app.config["NOTICE_CLAIM_TIMEOUT"])
    unclaimed = sa.or_(model.notice_claim.is_(None), model.notice_claimed_at < stale)
    due = (
        sa.select(model.id)
        .where(model.notice.is_not(None), unclaimed)
        .order_by(model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # The outer condition is checked again on each locked row, so two runs
    # never take the same email.
    db.session.execute(
        sa.update(model)
        .where(model.id.in_(due), model.notice.is_not(None), unclaimed)
        .values(notice_claim=claim, notice_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    rows = db.session.scalars(
        sa.select(model).where(model.notice_claim == claim).order_by(model.id)
    ).all()
    return claim, list(rows)


def mark_sent(model, row_id: int, claim: str) -> None:
    """Record that this run sent the row's email (unless a newer one is due)."""
    db.session.execute(
        sa.update(model)
        .where(model.id == row_id, model.notice_claim == claim)
        .values(notice=None, notice_claim=None, notice_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def release(model, claim: str) -> None:
    """Give back what this run could not send, for the next run to retry."""
    db.session.rollback()
    db.session.execute(
        sa.update(model)
        .where(model.notice_claim == claim)
        .values(notice_claim=None, notice_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def send_due(model, build: Callable[[object], Message]) -> int:
    """Send every email due on ``model``'s rows, batch by batch; count them."""
    sent = 0
    batch_size = current_app.config["NOTICE_BATCH_SIZE"]
    while True:
        claim, batch = claim_due(model, batch_size)
        if not batch:
            return sent
        try:
            sent += _send_batch(model, claim, batch, build)
        except TEMPORARY:
            log.warning(
                "SMTP unavailable; %d emails wait for the next run.", len(batch)
            )
            release(model, claim)
            return sent


def _send_batch(model, claim: str, batch: list, build) -> int:
    """Send one claimed batch over one connection, clearing each row as it goes."""
    # Build first: each row's commit below would expire the loaded objects.
    messages = [(row.id, build(row)) for row in batch]
    with sending() as send:
        for row_id, message in messages:
            try:
                send(message)
            except smtplib.SMTPRecipientsRefused:
                log.warning("Address refused for %s %s", model.__tablename__, row_id)
            mark_sent(model, row_id, claim)
    return len(messages)


def kick(task) -> None:
    """Ask a worker to run ``task`` now, unless this process asked just now."""
    interval = current_app.config["NOTICE_KICK_INTERVAL"]
    with _kick_lock:
        now = time.monotonic()
        if interval and now - _last_kick.get(task.name, -interval) < interval:
            return
        _last_kick[task.name] = now
    try:
        task.delay()
    except QueueUnavailable:
        # The email stays due: the beat schedule or the next kick sends it.
        log.warning("Queue unreachable; %s waits for the next run.", task.name)
