"""The broadcast ledger: one delivery row per recipient, and the runs sending them.

A run claims a batch of pending rows (a DeliveryRun holds the claim) and
sends them in id order, a step of copies at a time. Before it hands any copy
of a step to SMTP it commits the run's ``handed`` mark past that step; with
a later step it commits ``accepted``, the last copy the server took. The
steps are committed on a thread of their own (``Background``) one step ahead
of the copies going out, so SMTP never waits for the database; a step is
half of BROADCAST_WINDOW, so a run has at most BROADCAST_WINDOW copies past
``accepted`` and up to ``handed``. When the batch is done the run is
*settled*: its rows up to ``accepted`` become SENT in one statement.

If a run dies, a later run settles it once its heartbeat is older than
BROADCAST_CLAIM_TIMEOUT: rows up to ``accepted`` were delivered (SENT), rows
up to ``handed`` may or may not have been and become UNKNOWN, which is never
resent (nobody gets a second copy), and the rest are given back to be sent.
BROADCAST_WINDOW = 1 makes that at most one copy per dead run, at the cost
of waiting for a database round trip per copy.

Each row is written twice on the way to SENT (claimed, settled); the steps
write only the run's own row.
"""

import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from campaign.extensions import db
from campaign.mailing.models import (
    Delivery,
    DeliveryRun,
    DeliveryState,
    Subscriber,
    SubscriberState,
)
from campaign.mailing.update_audience import signer_recipients
from campaign.models import now_utc


class Background:
    """Threads for a run's ledger work, so it overlaps the SMTP traffic.

    Two queues, each worked through in order by one thread: ``step`` for the
    steps a copy waits on (short, so never stuck behind a claim), and
    ``in_context`` for claims and settling, in an app context of their own.
    Callers wait on the returned futures before relying on the work (a copy
    is handed to SMTP only once the step covering it has been committed);
    leaving the ``with`` block waits for all of it and raises what failed.
    """

    def __init__(self):
        """Start the threads, remembering the app for work that needs a context."""
        self.app = current_app._get_current_object()
        self.steps = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steps")
        self.ledger = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self.submitted: list[Future] = []

    def step(self, function: Callable, *args) -> Future:
        """Run ``function(*args)`` on the steps thread (no app context)."""
        return self.steps.submit(function, *args)

    def in_context(self, function: Callable, *args) -> Future:
        """Run ``function(*args)`` on the ledger thread, in an app context."""
        future = self.ledger.submit(self._in_context, function, *args)
        self.submitted.append(future)
        return future

    def _in_context(self, function: Callable, *args):
        with self.app.app_context():
            return function(*args)

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, kind, *exc_info) -> None:
        self.steps.shutdown(wait=True)
        self.ledger.shutdown(wait=True)
        if kind is None:  # else the error on the way out says more
            for future in self.submitted:
                future.result()


@dataclass(frozen=True)
class Recipient:
    """What sending one copy needs."""

    delivery_id: int
    email: str
    token: str
    locale: str = "en"  # which version of the broadcast they get
    withdraw: str = ""  # a petition update's signer: their withdraw token


def claim(broadcast_id: int, limit: int, after: int = 0) -> tuple[str, list[Recipient]]:
    """Take up to ``limit`` unclaimed pending rows; skip those who left since.

    ``after``: only rows with a higher id (a run passes the last id it
    claimed, so the search does not wade through the index entries its
    earlier rows left behind; 0 looks from the start, for rows put back).
    """
    token = uuid.uuid4().hex
    now = now_utc()
    # The free rows are picked and locked once, as a whole (a materialised
    # CTE), then updated by primary key: with the locking query nested
    # plainly, PostgreSQL may pick a plan that reruns it per row when the
    # statistics are fresh off a bulk insert. The locks last until the
    # commit, so two runs never take the same recipient (on SQLite, which has
    # no row locks, ``claim IS NULL`` in the update does that).
    picked = (
        sa.select(Delivery.id)
        .where(
            Delivery.broadcast_id == broadcast_id,
            Delivery.state == DeliveryState.PENDING,
            Delivery.id > after,
            Delivery.claim.is_(None),
            sa.or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
        )
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED")
    )
    ids = db.session.scalars(
        sa.update(Delivery)
        .where(Delivery.id.in_(sa.select(picked.c.id)), Delivery.claim.is_(None))
        .values(claim=token)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not ids:
        db.session.commit()
        return token, []
    first, last = min(ids), max(ids)
    db.session.add(
        DeliveryRun(
            token=token,
            broadcast_id=broadcast_id,
            first=first,
            last=last,
            heartbeat=now,
        )
    )
    db.session.commit()
    rows = db.session.execute(
        sa.select(
            Delivery.id,
            Delivery.signature_id,
            Subscriber.email,
            Subscriber.token,
            Subscriber.locale,
            Subscriber.state,
        )
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.between(first, last), Delivery.claim == token)
        .order_by(Delivery.id)
    ).all()
    chosen = _recipients(rows)
    gone = [row.id for row in rows if row.id not in chosen]
    if gone:
        _finish(token, gone, DeliveryState.SKIPPED)
        db.session.commit()
    return token, list(chosen.values())


def _recipients(rows) -> dict[int, Recipient]:
    """The claimed rows still to be sent, by delivery id (in id order):
    subscribers still subscribed, and petition-update signers still wanting
    them (see update_audience.py)."""
    signers = signer_recipients(
        [(row.id, row.signature_id) for row in rows if row.signature_id is not None]
    )
    chosen = {}
    for row in rows:
        if row.signature_id is not None:
            if row.id in signers:
                chosen[row.id] = Recipient(row.id, *signers[row.id])
        elif row.state is SubscriberState.SUBSCRIBED:
            chosen[row.id] = Recipient(row.id, row.email, row.token, row.locale)
    return chosen


def _finish(claim_token: str, ids: list[int], state: DeliveryState, error=None):
    """Move claimed rows to a final state (in the caller's transaction)."""
    mine = (Delivery.id.in_(ids), Delivery.claim == claim_token)
    _move(mine, state=state, claim=None, error=error, attempts=Delivery.attempts + 1)


class Steps:
    """A run's steps, on a connection of their own.

    A step is one autocommitted UPDATE of the run's own row. PostgreSQL is
    asked not to wait for its disk flush on these commits: a worker dying
    loses nothing this way (the server has the change). Only a crash of the
    database server itself (or its machine) can lose the last fraction of a
    second of steps: copies handed over in that time would read as not yet
    handed over and could be sent a second time.
    """

    def __init__(self, claim_token: str):
        """Open the connection the steps go through."""
        self.claim = claim_token
        self.connection = db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        )
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(sa.text("SET synchronous_commit TO OFF"))

    def advance(self, handed: int, accepted: int) -> bool:
        """Commit how far the run may go and how far SMTP has accepted.

        False if the run no longer holds its claim (it was too slow and
        another run settled it, or the broadcast was cancelled): it must
        stop handing copies over.
        """
        params = {
            "run": self.claim,
            "run_handed": handed,
            "run_accepted": accepted,
            "now": now_utc(),
        }
        return self.connection.execute(_STEP, params).rowcount == 1

    def close(self) -> None:
        """Give the connection back to the pool, as it was (commits wait again)."""
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(sa.text("RESET synchronous_commit"))
        self.connection.close()


_STEP = (
    sa.update(DeliveryRun.__table__)
    .where(DeliveryRun.__table__.c.token == sa.bindparam("run"))
    .values(
        handed=sa.bindparam("run_handed"),
        accepted=sa.bindparam("run_accepted"),
        heartbeat=sa.bindparam("now"),
    )
)


def settle(claim_token: str, accepted: int | None = None, older_than=None) -> int:
    """End a run's claim: SENT up to accepted, UNKNOWN up to handed, rest back.

    The run's own ``accepted`` is passed by the run itself (it knows best,
    and nothing it handed over beyond that was accepted); a run settled by
    another (``older_than``: only if its heartbeat is older) or by a cancel
    is taken at its last committed step. The run's row is deleted first, so
    a step racing this finds it gone and the run stops. Returns how many
    rows became UNKNOWN, or -1 if there was no such run (to settle).
    """
    run = DeliveryRun.__table__
    taken = sa.delete(run).where(run.c.token == claim_token)
    if older_than is not None:
        taken = taken.where(run.c.heartbeat < older_than)
    row = db.session.execute(
        taken.returning(
            run.c.broadcast_id, run.c.first, run.c.last, run.c.handed, run.c.accepted
        )
    ).first()
    if row is None:
        db.session.rollback()
        return -1
    if accepted is None:  # settled by another: only what the run committed
        accepted, handed = row.accepted, row.handed
    else:  # by the run itself: nothing it handed over past this went through
        handed = accepted
    held = (
        Delivery.id.between(row.first, row.last),
        Delivery.state == DeliveryState.PENDING,
        Delivery.claim == claim_token,
    )
    tried = {"claim": None, "attempts": Delivery.attempts + 1}
    _move(
        held,
        Delivery.id <= accepted,
        state=DeliveryState.SENT,
        sent_at=now_utc(),
        **tried,
    )
    unknown = _move(held, Delivery.id <= handed, state=DeliveryState.UNKNOWN, **tried)
    _move(held, claim=None)
    db.session.commit()
    return unknown


def _move(conditions, *more, **values) -> int:
    """UPDATE the deliveries matching all conditions; return how many moved."""
    return db.session.execute(
        sa.update(Delivery)
        .where(*conditions, *more)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount


def release(claim_token: str) -> None:
    """Give back a claim none of whose copies went to SMTP."""
    settle(claim_token, accepted=0)


def recover_stale(broadcast_id: int) -> int:
    """Settle the runs of a broadcast that died; return how many rows became UNKNOWN."""
    stale = now_utc() - timedelta(seconds=current_app.config["BROADCAST_CLAIM_TIMEOUT"])
    return settle_all(broadcast_id, older_than=stale)


def settle_all(broadcast_id: int, older_than=None) -> int:
    """Settle a broadcast's runs at their last step; return how many went UNKNOWN.

    With ``older_than``, only the runs silent since then (dead ones).
    """
    runs = sa.select(DeliveryRun.token).where(DeliveryRun.broadcast_id == broadcast_id)
    if older_than is not None:
        runs = runs.where(DeliveryRun.heartbeat < older_than)
    tokens = db.session.scalars(runs).all()
    return sum(max(0, settle(token, older_than=older_than)) for token in tokens)


def fail(claim_token: str, delivery_id: int, error: str) -> None:
    """Record a permanent refusal: the row is never retried."""
    _finish(claim_token, [delivery_id], DeliveryState.FAILED, error[:300])
    db.session.commit()


def retry_later(claim_token: str, delivery_id: int, error: str) -> None:
    """Put back a row SMTP refused for now, with exponential backoff.

    After BROADCAST_MAX_ATTEMPTS refusals it fails for good.
    """
    config = current_app.config
    attempts = 1 + db.session.scalar(
        sa.select(Delivery.attempts).where(Delivery.id == delivery_id)
    )
    if attempts >= config["BROADCAST_MAX_ATTEMPTS"]:
        fail(claim_token, delivery_id, error)
        return
    backoff = min(
        config["BROADCAST_RETRY_MAX"],
        config["BROADCAST_RETRY_BASE"] * 2 ** (attempts - 1),
    )
    _move(
        (Delivery.id == delivery_id, Delivery.claim == claim_token),
        claim=None,
        attempts=attempts,
        not_before=now_utc() + timedelta(seconds=backoff),
        error=error[:300],
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
    # Copies the server accepted in batches still going out are sent already,
    # though their rows stay pending until the batch is settled.
    accepted = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DeliveryRun)
        .join(
            Delivery,
            sa.and_(
                Delivery.id.between(DeliveryRun.first, DeliveryRun.accepted),
                Delivery.claim == DeliveryRun.token,
            ),
        )
        .where(
            DeliveryRun.broadcast_id == broadcast_id,
            Delivery.state == DeliveryState.PENDING,
        )
    )
    counts["sent"] += accepted
    counts["pending"] -= accepted
    return counts


def outstanding(broadcast_id: int) -> int:
    """Rows not yet in a final state (pending, or in a run's hands)."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(
            Delivery.broadcast_id == broadcast_id,
            Delivery.state == DeliveryState.PENDING,
        )
    )
