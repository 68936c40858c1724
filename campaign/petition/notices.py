"""The signer-email outbox: which emails are due, and who is sending them.

Signing only marks an email as due on the signature row, in the same commit
that stores it, so no email is lost if the queue is down and no request pays
for publishing a task. The Celery task ``send_due_notices`` claims due rows in
batches, sends each batch over one SMTP connection and clears each row as its
email goes out. It runs on a beat schedule and is also "kicked" after a
signature, at most once per NOTICE_KICK_INTERVAL per process, so a quiet site
emails at once and a busy one in batches.
"""

import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from campaign.extensions import db
from campaign.models import now_utc
from campaign.petition.models import Signature


def claim_due(limit: int) -> tuple[str, list[Signature]]:
    """Take up to ``limit`` due emails for one sender run; return its claim."""
    claim = uuid.uuid4().hex
    now = now_utc()
    stale = now - timedelta(seconds=current_app.config["NOTICE_CLAIM_TIMEOUT"])
    unclaimed = sa.or_(
        Signature.notice_claim.is_(None), Signature.notice_claimed_at < stale
    )
    due = (
        sa.select(Signature.id)
        .where(Signature.notice.is_not(None), unclaimed)
        .order_by(Signature.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # The outer condition is checked again on each locked row, so two runs
    # never take the same email.
    db.session.execute(
        sa.update(Signature)
        .where(Signature.id.in_(due), Signature.notice.is_not(None), unclaimed)
        .values(notice_claim=claim, notice_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    rows = db.session.scalars(
        sa.select(Signature).where(Signature.notice_claim == claim).order_by("id")
    ).all()
    return claim, list(rows)


def mark_sent(signature_id: int, claim: str) -> None:
    """Record that this run sent the signer's email (unless a newer one is due)."""
    db.session.execute(
        sa.update(Signature)
        .where(Signature.id == signature_id, Signature.notice_claim == claim)
        .values(notice=None, notice_claim=None, notice_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def release(claim: str) -> None:
    """Give back what this run could not send, for the next run to retry."""
    db.session.rollback()
    db.session.execute(
        sa.update(Signature)
        .where(Signature.notice_claim == claim)
        .values(notice_claim=None, notice_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
