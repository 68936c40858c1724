"""The broadcast ledger: one delivery row per recipient, moved state by state.

A run claims a batch of pending rows, then works through it a window of
BROADCAST_WINDOW copies at a time: it marks the window SENDING (committed)
before handing any of its copies to SMTP, and records them SENT, in the same
commit that marks the next window SENDING, once the server has accepted them.
So at any moment a run has at most one window of copies whose outcome it has
not recorded. If the run dies, a later run retakes its claim once it is older
than BROADCAST_CLAIM_TIMEOUT: claimed rows still PENDING were never handed to
SMTP and are sent; rows left SENDING may or may not have been delivered and
become UNKNOWN, which is never resent (nobody gets a second copy).
BROADCAST_WINDOW = 1 makes that at most one copy per dead run, at the cost of
a database round trip per copy.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from campaign.extensions import db
from campaign.mailing.models import (
    Delivery,
    DeliveryState,
    Subscriber,
    SubscriberState,
)
from campaign.models import now_utc


@dataclass(frozen=True)
class Recipient:
    """What sending one copy needs."""

    delivery_id: int
    email: str
    token: str


def recover_stale(broadcast_id: int) -> int:
    """Retake the claims of dead runs; return how many rows became UNKNOWN."""
    stale = now_utc() - timedelta(seconds=current_app.config["BROADCAST_CLAIM_TIMEOUT"])
    mine = (Delivery.broadcast_id == broadcast_id, Delivery.claimed_at < stale)
    unknown = db.session.execute(
        sa.update(Delivery)
        .where(*mine, Delivery.state == DeliveryState.SENDING)
        .values(state=DeliveryState.UNKNOWN, claim=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        sa.update(Delivery)
        .where(
            *mine, Delivery.state == DeliveryState.PENDING, Delivery.claim.is_not(None)
        )
        .values(claim=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return unknown


def claim(broadcast_id: int, limit: int) -> tuple[str, list[Recipient]]:
    """Take up to ``limit`` unclaimed pending rows; skip those who left since."""
    token = uuid.uuid4().hex
    now = now_utc()
    free = (
        Delivery.broadcast_id == broadcast_id,
        Delivery.state == DeliveryState.PENDING,
        Delivery.claim.is_(None),
        sa.or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
    )
    # Lock the rows first, then update them by primary key: one statement
    # with the locking query nested in it lets PostgreSQL pick a plan that
    # rescans it per row when the table's statistics are fresh off a bulk
    # insert. The locks last until the commit, so two runs never take the
    # same recipient.
    ids = db.session.scalars(
        sa.select(Delivery.id)
        .where(*free)
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if ids:
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(claim=token, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    rows = db.session.execute(
        sa.select(Delivery.id, Subscriber.email, Subscriber.token, Subscriber.state)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.claim == token)
        .order_by(Delivery.id)
    ).all()
    gone = [row.id for row in rows if row.state is not SubscriberState.SUBSCRIBED]
    if gone:
        _finish(token, gone, DeliveryState.SKIPPED)
        db.session.commit()
    recipients = [
        Recipient(row.id, row.email, row.token)
        for row in rows
        if row.state is SubscriberState.SUBSCRIBED
    ]
    return token, recipients


def _finish(claim_token: str, ids: list[int], state: DeliveryState, error=None):
    """Move claimed rows to a final state (in the caller's transaction)."""
    values = {"state": state, "claim": None, "error": error}
    if state is DeliveryState.SENT:
        values["sent_at"] = now_utc()
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.claim == claim_token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


class Marks:
    """The ledger steps of one run, on a connection of their own.

    A step is one autocommitted UPDATE (one round trip): the copies SMTP just
    accepted become SENT and the next window of copies SENDING. PostgreSQL
    is asked not to wait for its disk flush on these commits: a worker dying
    loses nothing this way (the server has the change); only a database
    server crash could lose the last few steps, and a lost SENDING reads as
    not yet sent, a lost SENT as SENDING (so UNKNOWN, never resent).
    """

    def __init__(self, claim_token: str):
        """Open the connection the steps go through."""
        self.claim = claim_token
        self.connection = db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        )
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(sa.text("SET synchronous_commit TO OFF"))

    def advance(self, sent: list[int], window: list[int]) -> set[int]:
        """Record ``sent`` as accepted and mark ``window`` SENDING, in one step.

        Returns the ids of ``window`` still this run's (a run that was too
        slow may have lost its claim): only those may be sent.
        """
        if not sent and not window:
            return set()
        params = {
            "claim": self.claim,
            "ids": sent + window,
            "sent": sent,
            "window": window,
            "now": now_utc(),
        }
        moved = set(self.connection.execute(_ADVANCE, params).scalars())
        return moved.intersection(window)

    def close(self) -> None:
        """Give the connection back to the pool."""
        self.connection.close()


def _advance_statement():
    """UPDATE … RETURNING id for one step; built once, cached compiled.

    Rows are found by primary key (``ids`` is ``sent`` + ``window``), so a
    step costs the same whatever the size of the broadcast.
    """
    table = Delivery.__table__
    in_window = table.c.id.in_(sa.bindparam("window", expanding=True))
    return (
        sa.update(table)
        .where(
            table.c.id.in_(sa.bindparam("ids", expanding=True)),
            table.c.claim == sa.bindparam("claim"),
            sa.or_(
                sa.and_(in_window, table.c.state == DeliveryState.PENDING.value),
                sa.and_(
                    table.c.id.in_(sa.bindparam("sent", expanding=True)),
                    table.c.state == DeliveryState.SENDING.value,
                ),
            ),
        )
        .values(
            state=sa.case(
                (in_window, DeliveryState.SENDING.value),
                else_=DeliveryState.SENT.value,
            ),
            attempts=sa.case((in_window, table.c.attempts + 1), else_=table.c.attempts),
            sent_at=sa.case((in_window, table.c.sent_at), else_=sa.bindparam("now")),
            claim=sa.case((in_window, table.c.claim), else_=None),
        )
        .returning(table.c.id)
    )


_ADVANCE = _advance_statement()


def fail(claim_token: str, delivery_id: int, error: str) -> None:
    """Record a permanent refusal: the row is never retried."""
    _finish(claim_token, [delivery_id], DeliveryState.FAILED, error[:300])
    db.session.commit()


def retry_later(claim_token: str, delivery_id: int, error: str) -> None:
    """Put back a row SMTP refused for now, with exponential backoff.

    After BROADCAST_MAX_ATTEMPTS refusals it fails for good.
    """
    config = current_app.config
    attempts = db.session.scalar(
        sa.select(Delivery.attempts).where(Delivery.id == delivery_id)
    )
    if attempts >= config["BROADCAST_MAX_ATTEMPTS"]:
        fail(claim_token, delivery_id, error)
        return
    backoff = min(
        config["BROADCAST_RETRY_MAX"], config["BROADCAST_RETRY_BASE"] * 2**attempts
    )
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.claim == claim_token)
        .values(
            state=DeliveryState.PENDING,
            claim=None,
            claimed_at=None,
            not_before=now_utc() + timedelta(seconds=backoff),
            error=error[:300],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def release(claim_token: str) -> None:
    """Give back a claim after SMTP went away: nothing in it was accepted."""
    db.session.rollback()
    db.session.execute(
        sa.update(Delivery)
        .where(
            Delivery.claim == claim_token,
            Delivery.state.in_([DeliveryState.PENDING, DeliveryState.SENDING]),
        )
        .values(state=DeliveryState.PENDING, claim=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def progress(broadcast_id: int) -> dict[str, int]:
    """How many of a broadcast's deliveries are in each state."""
    rows = db.session.execute(
        sa.select(Delivery.state, sa.func.count())
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.state)
    ).all()
    counts = {state.value: 0 for state in DeliveryState}
    counts.update({state.value: number for state, number in rows})
    return counts


def outstanding(broadcast_id: int) -> int:
    """Rows not yet in a final state (pending or in flight)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(
            Delivery.broadcast_id == broadcast_id,
            Delivery.state.in_([DeliveryState.PENDING, DeliveryState.SENDING]),
        )
    )
