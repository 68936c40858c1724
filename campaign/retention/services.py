"""Retention: what is deleted or anonymised, when, in batches, audited.

Each step picks the rows due (oldest first, BATCH at a time, by id so a run
always ends) and changes them with a conditional statement that still
requires them to be due: two runs at once change each row once, and on
PostgreSQL the second skips the rows the first holds (SKIP LOCKED). Each
batch is committed on its own. A period of 0 means "never" for its step.

- pending signatures and unconfirmed subscribers: deleted, with their
  consents, RETENTION_PENDING_DAYS after the last request to confirm
  (``updated_at``; a fresh attempt starts the wait again); signatures kept
  as fraudulent, as long after they were made;
- signatures of a petition closed (or archived) RETENTION_CLOSED_MONTHS
  ago: anonymised (``ANONYMISED``), their state, country, times and public
  flag kept, so the count, the per-country tallies and the charts stay exact;
- donors: name and email blanked RETENTION_DONATION_YEARS after a donation
  (after a monthly gift ended); amounts, currency, kind, state, dates and
  Stripe ids kept, which the accounts need (README, "Retention");
- client-address keys: a window's salt deleted, and the keys stored on
  signatures cleared, CLIENT_KEY_KEEP_DAYS later (campaign/privacy/client_keys.py).
"""

import calendar
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from campaign.audit import record
from campaign.donate.models import DONOR_BLANKED, Donation, GiftState, MonthlyGift
from campaign.extensions import db
from campaign.mailing.models import Subscriber, SubscriberState
from campaign.mailing.services import unlink_signatures, unlink_subscribers
from campaign.models import now_utc
from campaign.petition.models import (
    Petition,
    PetitionPdf,
    PetitionState,
    Signature,
    SignatureConsent,
    SignatureState,
    not_anonymised,
)
from campaign.petition.services import forget_count
from campaign.privacy.client_keys import forget_cached_key
from campaign.privacy.models import ClientKeyWindow
from campaign.retention.models import RetentionRun

BATCH = 1000
CLOSED_STATES = (PetitionState.CLOSED, PetitionState.ARCHIVED)


# What anonymising sets on a signature: the one place to change when the
# columns change. The address's keyed hash goes too (NULLs never collide in
# the one-signature-per-address constraint); ``not_anonymised`` (with the
# model, so the PDF and the printable list leave such signers unnamed) is the
# matching test.
def anonymised() -> dict:
    """The values an anonymised signature gets (name, email, comment, keys)."""
    return {
        "name": "",
        "email": "",
        "comment": None,
        "email_hash": None,
        "domain_key": None,
        "ip_key": None,
        "wants_updates": False,
    }


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (or the
    month's last day, if shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def cutoffs(now: datetime) -> dict[str, datetime | None]:
    """Each step's cutoff (rows older are due), None for a period of 0."""
    config = current_app.config

    def before(setting: str, to_cutoff: Callable[[int], datetime]):
        return to_cutoff(config[setting]) if config[setting] else None

    return {
        "pending": before("RETENTION_PENDING_DAYS", lambda n: now - timedelta(days=n)),
        "closed": before("RETENTION_CLOSED_MONTHS", lambda n: months_before(now, n)),
        "donors": before(
            "RETENTION_DONATION_YEARS", lambda n: months_before(now, 12 * n)
        ),
        "client_keys": before(
            "CLIENT_KEY_KEEP_DAYS", lambda n: now - timedelta(days=n)
        ),
    }


def _pending_signatures(cutoff):
    """Pending signatures not asked to confirm since ``cutoff``, and those
    kept as fraudulent (never emailed, never counted) since then: left alone,
    one would hold its address's one signature on the petition for ever."""
    unconfirmed = (SignatureState.PENDING, SignatureState.FRAUDULENT)
    due = sa.and_(Signature.state.in_(unconfirmed), Signature.updated_at < cutoff)
    return Signature, due, _delete_signatures


def _pending_subscribers(cutoff):
    """Unconfirmed subscribers not asked to confirm since ``cutoff``."""
    due = sa.and_(
        Subscriber.state == SubscriberState.PENDING, Subscriber.updated_at < cutoff
    )
    return Subscriber, due, _delete_subscribers


def _closed_signatures(cutoff):
    """Signatures still named on petitions closed (or archived) before ``cutoff``."""
    closed = sa.select(Petition.id).where(
        Petition.state.in_(CLOSED_STATES), Petition.closed_at < cutoff
    )
    due = sa.and_(Signature.petition_id.in_(closed), not_anonymised())
    return Signature, due, _anonymise_signatures


def _donor_present(model):
    """Rows of ``model`` that still name their donor."""
    return sa.or_(model.name.is_not(None), model.email.is_not(None))


def _old_donations(cutoff):
    """Donations made before ``cutoff`` that still name the donor."""
    due = sa.and_(Donation.created_at < cutoff, _donor_present(Donation))
    return Donation, due, _blank(Donation)


def _ended_gifts(cutoff):
    """Monthly gifts ended before ``cutoff`` that still name the donor."""
    ended = sa.func.coalesce(MonthlyGift.cancelled_at, MonthlyGift.updated_at)
    due = sa.and_(
        MonthlyGift.state == GiftState.CANCELLED,
        ended < cutoff,
        _donor_present(MonthlyGift),
    )
    return MonthlyGift, due, _blank(MonthlyGift)


def _old_client_keys(cutoff):
    """Client-address keys stored on signatures made before ``cutoff``."""
    due = sa.and_(Signature.ip_key.is_not(None), Signature.created_at < cutoff)
    return Signature, due, _clear_ip_keys


# Each step: its name (the counts' key), its period's cutoff, what it does.
STEPS = (
    ("pending_signatures", "pending", _pending_signatures),
    ("pending_subscribers", "pending", _pending_subscribers),
    ("anonymised_signatures", "closed", _closed_signatures),
    ("blanked_donations", "donors", _old_donations),
    ("blanked_monthly_gifts", "donors", _ended_gifts),
    ("cleared_client_keys", "client_keys", _old_client_keys),
)


def _due(cut: dict) -> dict[str, tuple | None]:
    """Each step's (model, due rows' condition, action); None if never due."""
    return {
        name: make(cut[period]) if cut[period] else None for name, period, make in STEPS
    }


def apply_retention(dry_run: bool = False, now: datetime | None = None) -> dict:
    """Apply every retention period; return the rows each step changed (or,
    with ``dry_run``, would change, changing and recording nothing)."""
    now = now or now_utc()
    cut = cutoffs(now)
    steps = _due(cut)
    if dry_run:
        counts = {
            name: _count(step[0], step[1]) if step else 0
            for name, step in steps.items()
        }
        counts["forgotten_key_windows"] = _old_windows(cut, now, count=True)
        return counts
    run = RetentionRun(started_at=now_utc(), counts={})
    db.session.add(run)
    db.session.commit()
    counts = {name: _in_batches(*step) if step else 0 for name, step in steps.items()}
    counts["forgotten_key_windows"] = _old_windows(cut, now)
    run.finished_at = now_utc()
    run.counts = counts
    detail = ", ".join(f"{name}: {n}" for name, n in counts.items())
    record(None, "retention", detail, sum(counts.values()))
    db.session.commit()
    return counts


def _count(model, condition) -> int:
    """How many rows a step would change."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(model).where(condition)
    )


def _in_batches(model, condition, act) -> int:
    """Run ``act`` on the due rows BATCH ids at a time, one commit each."""
    done, last = 0, 0
    while True:
        ids = list(
            db.session.scalars(
                sa.select(model.id)
                .where(condition, model.id > last)
                .order_by(model.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True, of=model)
            )
        )
        if not ids:
            return done
        done += act(ids, condition)
        db.session.commit()
        last = ids[-1]


def _changed(statement) -> list[int]:
    """Run a conditional DELETE or UPDATE … RETURNING id; the ids it changed."""
    return list(
        db.session.scalars(statement.execution_options(synchronize_session=False))
    )


def _delete_signatures(ids: list[int], condition) -> int:
    """Delete these unconfirmed signatures (if still due) and their consents."""
    gone = _changed(
        sa.delete(Signature)
        .where(Signature.id.in_(ids), condition)
        .returning(Signature.id)
    )
    # The foreign keys do this on PostgreSQL; SQLite does not enforce them.
    db.session.execute(
        sa.delete(SignatureConsent).where(SignatureConsent.signature_id.in_(gone))
    )
    unlink_signatures(gone)
    return len(gone)


def _delete_subscribers(ids: list[int], condition) -> int:
    """Delete these unconfirmed subscribers (if still due) and their consents."""
    gone = _changed(
        sa.delete(Subscriber)
        .where(Subscriber.id.in_(ids), condition)
        .returning(Subscriber.id)
    )
    unlink_subscribers(gone)
    return len(gone)


def _anonymise_signatures(ids: list[int], condition) -> int:
    """Anonymise these signatures (if still due) and drop their consents."""
    done = _changed(
        sa.update(Signature)
        .where(Signature.id.in_(ids), condition)
        .values(anonymised())
        .returning(Signature.id)
    )
    db.session.execute(
        sa.delete(SignatureConsent).where(SignatureConsent.signature_id.in_(done))
    )
    petitions = set(
        db.session.scalars(
            sa.select(Signature.petition_id).where(Signature.id.in_(done)).distinct()
        )
    )
    # A stored petition PDF prints the names: it is made again on request.
    db.session.execute(
        sa.delete(PetitionPdf).where(PetitionPdf.petition_id.in_(petitions))
    )
    for petition_id in petitions:
        forget_count(petition_id)  # the latest public signers showed names
    return len(done)


def _blank(model):
    """The action that blanks the donor on rows of ``model``."""

    def blank(ids: list[int], condition) -> int:
        return len(
            _changed(
                sa.update(model)
                .where(model.id.in_(ids), condition)
                .values(DONOR_BLANKED)
                .returning(model.id)
            )
        )

    return blank


def _clear_ip_keys(ids: list[int], condition) -> int:
    """Clear the client-address keys stored on these signatures."""
    return len(
        _changed(
            sa.update(Signature)
            .where(Signature.id.in_(ids), condition)
            .values(ip_key=None)
            .returning(Signature.id)
        )
    )


def _old_windows(cut: dict, now: datetime, count: bool = False) -> int:
    """Delete (or count) the salts of key windows that ended before the cutoff."""
    keys = cut["client_keys"]
    if keys is None:
        return 0
    hours = timedelta(hours=current_app.config["CLIENT_KEY_HOURS"])
    old = ClientKeyWindow.starts_at <= keys - hours
    if count:
        return _count(ClientKeyWindow, old)
    gone = db.session.execute(sa.delete(ClientKeyWindow).where(old)).rowcount
    db.session.commit()
    forget_cached_key()
    return gone
