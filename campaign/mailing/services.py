"""Mailing-list domain: joining, confirming, leaving, suppressing, deleting.

Each operation is one unit of work with one commit; an email it makes due is
sent by the worker after that commit (campaign/outbox.py).
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from campaign.audit import record
from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.mailing.links import CONFIRM_SALT
from campaign.mailing.models import (
    Consent,
    Delivery,
    Subscriber,
    SubscriberNotice,
    SubscriberState,
    Suppression,
    SuppressionReason,
)
from campaign.models import insert_for, now_utc
from campaign.text import canonical_email
from campaign.tokens import row_from_token

# Reasons that only the supporter's own new opt-in may lift.
LIFTED_BY_OPT_IN = {SuppressionReason.UNSUBSCRIBED}


CHUNK = 500  # addresses per suppression lookup


def email_key(email: str) -> str:
    """A keyed hash of an address: how the list, the signatures and the
    suppression list know it (``email_hash``, under HASH_KEY)."""
    return email_hash(email)


def legacy_suppression_key(email: str) -> str:
    """The suppression hash from before migration 0021 (HMAC under SECRET_KEY).

    The migration re-keyed every row whose address it still had; a row it
    could not (the person was erased) keeps this key, and every suppression
    check also looks for it, so an erased supporter is still never mailed.
    """
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, canonical_email(email).encode(), hashlib.sha256).hexdigest()


def _suppression_rows(email: str) -> list[Suppression]:
    """The suppression rows of an address: under its hash or its legacy key."""
    keys = (email_key(email), legacy_suppression_key(email))
    return list(
        db.session.scalars(
            sa.select(Suppression).where(Suppression.email_key.in_(keys))
        )
    )


def suppression_reason(email: str) -> SuppressionReason | None:
    """Why this address must not be mailed, or None (the strongest reason)."""
    reasons = [row.reason for row in _suppression_rows(email)]
    for reason in reasons:
        if reason not in LIFTED_BY_OPT_IN:
            return reason
    return reasons[0] if reasons else None


def suppressed_addresses(emails: Iterable[str]) -> set[str]:
    """Which of these addresses the suppression list holds (either key)."""
    by_key = {}
    for email in emails:
        by_key[email_key(email)] = email
        by_key[legacy_suppression_key(email)] = email
    keys = list(by_key)
    found = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(
            db.session.scalars(
                sa.select(Suppression.email_key).where(Suppression.email_key.in_(chunk))
            )
        )
    return {by_key[key] for key in found}


def _may_opt_in(email: str) -> bool:
    """False for an address suppressed for a bounce or complaint."""
    return suppression_reason(email) in (None, *LIFTED_BY_OPT_IN)


def get_subscriber(email: str) -> Subscriber | None:
    """The subscriber with this address (in any state), or None."""
    return db.session.scalar(
        sa.select(Subscriber).where(Subscriber.email_key == email_key(email))
    )


def subscriber_by_token(token: str) -> Subscriber | None:
    """The subscriber an unsubscribe or preferences link names, or None."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Subscriber).where(Subscriber.token == token))


def _find_or_create(email: str, name, country, locale: str) -> Subscriber:
    """The subscriber row for this address, made pending if new (race-safe)."""
    key = email_key(email)
    now = now_utc()
    table = Subscriber.__table__
    db.session.execute(
        insert_for(table, db.engine.dialect.name)
        .on_conflict_do_nothing(index_elements=["email_key"])
        .values(
            email=email,
            name=name or None,
            country=country or None,
            locale=locale,
            state=SubscriberState.PENDING,
            token=secrets.token_urlsafe(32),
            email_key=key,
            soft_bounces=0,
            created_at=now,
            updated_at=now,
        )
    )
    return db.session.scalar(
        sa.select(Subscriber).where(Subscriber.email_key == key).with_for_update()
    )


def join_list(
    *,
    email: str,
    source: str,
    wording: str,
    name: str | None = None,
    country: str | None = None,
    locale: str = "en",
) -> None:
    """Ask to join the list; every outcome looks the same to the asker.

    A new or lapsed address gets a confirmation link (double opt-in) and its
    consent is recorded unconfirmed; a subscribed one gets an "already on the
    list" note. Either email goes at most once per NOTICE_INTERVAL, and an
    address suppressed for a bounce or complaint gets nothing.
    """
    if not _may_opt_in(email):
        return
    subscriber = _find_or_create(email, name, country, locale)
    if subscriber.state is not SubscriberState.SUBSCRIBED:
        subscriber.consents.append(Consent(source=source, wording=wording))
        subscriber.name = subscriber.name or name or None
        subscriber.country = subscriber.country or country or None
    notice = (
        SubscriberNotice.ALREADY_SUBSCRIBED
        if subscriber.state is SubscriberState.SUBSCRIBED
        else SubscriberNotice.CONFIRM
    )
    due = _notice_due(subscriber)
    if due:
        subscriber.notice = notice
        subscriber.notified_at = now_utc()
        subscriber.notice_claim = None  # a newer email supersedes a held one
    db.session.commit()
    if due:
        # Imported here: the tasks module loads Celery, which no other
        # `flask` command needs (see campaign/tasks.py).
        from campaign.mailing.tasks import kick_sender

        kick_sender()


def _notice_due(subscriber: Subscriber) -> bool:
    """Whether we may email this address again now (throttled resends)."""
    if subscriber.notified_at is None:
        return True
    interval = timedelta(seconds=current_app.config["NOTICE_INTERVAL"])
    return subscriber.notified_at < now_utc() - interval


def confirm_subscription(token: str) -> Subscriber:
    """Complete the double opt-in from the emailed link (idempotent)."""
    subscriber = row_from_token(CONFIRM_SALT, Subscriber, token)
    if subscriber.state is not SubscriberState.SUBSCRIBED:
        _subscribe(subscriber)
        db.session.commit()
    return subscriber


def _subscribe(subscriber: Subscriber) -> None:
    """Put a proven address on the list and confirm its pending consents."""
    now = now_utc()
    subscriber.state = SubscriberState.SUBSCRIBED
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    for consent in subscriber.consents:
        if consent.confirmed_at is None:
            consent.confirmed_at = now
    _lift_suppression(subscriber.email)


def subscribe_signer(signature, wording: str) -> None:
    """Join a signer who ticked the petition's box, once their email is proven.

    Confirming the signature proved the address, so this is the second step
    of the double opt-in; the caller commits.
    """
    if not _may_opt_in(signature.email):
        return
    subscriber = _find_or_create(
        signature.email, signature.name, signature.country, signature.locale
    )
    subscriber.consents.append(
        Consent(
            source=f"petition:{signature.petition.slug}",
            wording=wording,
            given_at=signature.created_at,
        )
    )
    _subscribe(subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    """Take an address off the list for good (until it opts in again)."""
    if subscriber.state is not SubscriberState.UNSUBSCRIBED:
        subscriber.state = SubscriberState.UNSUBSCRIBED
        subscriber.unsubscribed_at = now_utc()
        subscriber.notice = None
    _suppress(subscriber.email, SuppressionReason.UNSUBSCRIBED)
    db.session.commit()


def resubscribe(subscriber: Subscriber, wording: str) -> bool:
    """Come back from the preferences page; False if the address can't be mailed.

    The preferences link proves the address, so no second email is needed.
    """
    if not _may_opt_in(subscriber.email):
        return False
    if subscriber.state is not SubscriberState.SUBSCRIBED:
        subscriber.consents.append(Consent(source="preferences", wording=wording))
        _subscribe(subscriber)
        db.session.commit()
    return True


def record_bounce(email: str, kind: str, organiser=None) -> SuppressionReason | None:
    """Record a bounce or complaint: "hard" and "complaint" suppress, "soft" counts.

    Returns the suppression now in force, if any. The audit entry never names
    the address.
    """
    subscriber = get_subscriber(email)
    record(organiser, "mailing.bounce", f"{kind} recorded")
    if kind == "soft":
        if subscriber is not None:
            subscriber.soft_bounces += 1
        db.session.commit()
        return suppression_reason(email)
    reason = {
        "hard": SuppressionReason.HARD_BOUNCE,
        "complaint": SuppressionReason.COMPLAINT,
    }[kind]
    if subscriber is not None and subscriber.state is SubscriberState.SUBSCRIBED:
        subscriber.state = SubscriberState.UNSUBSCRIBED
        subscriber.unsubscribed_at = now_utc()
    _suppress(email, reason)
    db.session.commit()
    return reason


def never_mail(email: str) -> None:
    """Suppress an address whose owner asked us to forget them (uncommitted):
    only the keyed hash stays, and list mail never goes to it unless they
    join again themselves."""
    _suppress(email, SuppressionReason.UNSUBSCRIBED)


def _suppress(email: str, reason: SuppressionReason) -> None:
    """Add the address to the suppression list; a stronger reason wins."""
    rows = _suppression_rows(email)
    if not rows:
        db.session.add(Suppression(email_key=email_key(email), reason=reason))
    for row in rows:
        if row.reason is SuppressionReason.UNSUBSCRIBED:
            row.reason = reason


def _lift_suppression(email: str) -> None:
    """Forget an unsubscribe the supporter has just taken back."""
    for row in _suppression_rows(email):
        if row.reason in LIFTED_BY_OPT_IN:
            db.session.delete(row)


def unlink_subscribers(ids: list[int]) -> None:
    """After deleting these subscribers (uncommitted): their consents go, and
    their copies in the broadcast ledger stay, counted, without the link.

    The foreign keys do this on PostgreSQL; SQLite enforces none, and gives
    the next subscriber the highest id again, who would otherwise inherit the
    copies (and be sent one of a broadcast still under way).
    """
    db.session.execute(sa.delete(Consent).where(Consent.subscriber_id.in_(ids)))
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.subscriber_id.in_(ids))
        .values(subscriber_id=None)
        .execution_options(synchronize_session=False)
    )


def unlink_signatures(ids) -> None:
    """Before or after deleting these signatures (uncommitted): their copies
    of petition updates stay in the ledger, counted, without the link (the
    foreign key does this on PostgreSQL; SQLite enforces none)."""
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.signature_id.in_(ids))
        .values(signature_id=None)
        .execution_options(synchronize_session=False)
    )


def list_counts() -> dict[str, int]:
    """How many addresses are in each state, and how many are suppressed."""
    rows = db.session.execute(
        sa.select(Subscriber.state, sa.func.count()).group_by(Subscriber.state)
    ).all()
    counts = {state.value: 0 for state in SubscriberState}
    counts.update({state.value: number for state, number in rows})
    counts["suppressed"] = db.session.scalar(
        sa.select(sa.func.count()).select_from(Suppression)
    )
    return counts
