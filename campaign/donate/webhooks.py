"""Stripe's webhook: the only way a donation becomes real.

Each event is verified, recorded by id and applied in one commit, so a
redelivery changes nothing. Stripe sends events in no set order: every
handler finds its row by whichever Stripe id the event carries (or makes
it), fills in what is still unknown, and moves the state only forward
(pending < failed < paid < refunded; a cancelled gift stays cancelled).
A receipt becomes due in the same commit that first records a payment.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError, StatementError

from campaign.donate import stripe_api
from campaign.donate.models import (
    Donation,
    DonationKind,
    DonationState,
    MonthlyGift,
    StripeEvent,
)
from campaign.donate.tasks import kick_receipts
from campaign.encryption import email_hash
from campaign.errors import database_unavailable
from campaign.extensions import db
from campaign.models import now_utc
from campaign.text import visible


class MalformedEvent(Exception):
    """A signed event whose fields are not what Stripe sends (nothing is stored)."""


# Columns shorter than the usual 255 characters.
TEXT_LIMITS = {"type": 100, "currency": 3, "email": 320}
# 2100-01-01: later than any event Stripe has sent or will send for years.
LATEST_TIMESTAMP = 4_102_444_800
# What reading fields of the wrong type or shape raises, here or in the database.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


def receive(payload: bytes, signature: str | None) -> str:
    """Verify and apply one delivery; say whether it was new, a replay or ignored.

    Raises ``stripe_api.BadSignature`` before anything is stored, and
    ``MalformedEvent`` (storing nothing) for a signed event it cannot read.
    """
    event = stripe_api.verified_event(payload, signature)
    for attempt in range(3):
        try:
            outcome = _apply(event)
            db.session.commit()
        except IntegrityError as error:
            # A concurrent delivery stored the same event or row first: look again.
            db.session.rollback()
            if attempt == 2:
                # Still refused on a fresh look: the event contradicts what is
                # stored (one session id on two gifts), not a race.
                raise MalformedEvent(
                    f"conflicts with stored records: {error}"
                ) from error
        except (*MALFORMED, StatementError) as error:
            if database_unavailable(error):
                raise  # a 503 (campaign/errors.py), so Stripe delivers it again
            db.session.rollback()
            raise MalformedEvent(str(error)) from error
        else:
            if outcome == "applied":
                kick_receipts()  # any receipt it made due goes out now
            return outcome
    raise AssertionError("unreachable")


def _apply(event: dict) -> str:
    """Record the event id and apply it (uncommitted); say what happened."""
    event_id, kind = checked("event_id", event["id"]), checked("type", event["type"])
    at = created_at(event.get("created"))
    if db.session.get(StripeEvent, event_id) is not None:
        return "replay"
    db.session.add(StripeEvent(id=event_id, type=kind))
    db.session.flush()
    handler = HANDLERS.get(kind)
    obj = event["data"]["object"]
    if handler is None or not _ours(obj):
        return "ignored"
    handler(obj, at)
    return "applied"


def created_at(created) -> datetime:
    """When Stripe made the event: a whole number of seconds in a sane range."""
    if created is None:
        return now_utc()
    if not isinstance(created, int) or isinstance(created, bool):
        raise MalformedEvent("created is not a whole number")
    if not 0 < created < LATEST_TIMESTAMP:
        raise MalformedEvent("created is out of range")
    return datetime.fromtimestamp(created, UTC)


def _ours(obj: dict) -> bool:
    """Whether an object belongs to this campaign (others share the account)."""
    campaign = _metadata(obj).get("campaign")
    return campaign in (None, current_app.config["DONATION_CAMPAIGN"])


def _metadata(obj: dict) -> dict:
    """The metadata we set, wherever this kind of object carries it."""
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    legacy = obj.get("subscription_details") or {}
    return (
        obj.get("metadata") or details.get("metadata") or legacy.get("metadata") or {}
    )


def donor_locale(obj: dict) -> str | None:
    """The site language the donor gave in, as the checkout's metadata names it
    (a monthly gift's invoices carry its subscription's metadata)."""
    locale = _metadata(obj).get("locale")
    return locale if locale in current_app.config["LANGUAGES"] else None


def find_donation(**ids: str | None) -> Donation:
    """The donation any of these Stripe ids names; a new one if none does."""
    given = {name: checked(name, value) for name, value in ids.items() if value}
    matches = [getattr(Donation, name) == value for name, value in given.items()]
    found = None
    if matches:
        found = db.session.scalar(
            sa.select(Donation).where(sa.or_(*matches)).order_by(Donation.id).limit(1)
        )
    if found is None:
        found = Donation(state=DonationState.PENDING, amount=0, refunded_amount=0)
        db.session.add(found)
    for name, value in given.items():
        setattr(found, name, value)
    return found


def checked(name: str, value):
    """A field from an event, if it has the type and range Stripe sends."""
    if value is None:
        return None
    if name.endswith("amount"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise MalformedEvent(f"{name} is not a whole number")
        if not 0 <= value < 2**31:
            raise MalformedEvent(f"{name} is out of range")
    elif not isinstance(value, str) or len(value) > TEXT_LIMITS.get(name, 255):
        raise MalformedEvent(f"{name} is not a short text")
    return value


def fill(row, **values) -> None:
    """Set the fields still unknown on a row (what Stripe said first stands)."""
    for name, value in values.items():
        value = checked(name, value)
        if name == "name":
            value = visible(value)  # a donor's name as Stripe has it, shown later
        if value and not getattr(row, name):
            setattr(
                row, name, value.lower() if name in ("email", "currency") else value
            )
            if name == "email":  # the donor is found by this, never by the address
                row.email_hash = email_hash(value)


def record_payment(donation: Donation, state: DonationState, at: datetime) -> None:
    """Move a donation on; a first confirmed payment makes its receipt due."""
    if state is DonationState.PAID and donation.paid_at is None:
        donation.paid_at = at
        was_new = donation.state in (DonationState.PENDING, DonationState.FAILED)
        if donation.move_to(state) and was_new and donation.email:
            donation.receipt_due_at = now_utc()
        return
    donation.move_to(state)


def gift_for(subscription_id: str) -> MonthlyGift:
    """The monthly gift of a subscription; a new one if not seen yet."""
    subscription_id = checked("subscription_id", subscription_id)
    gift = db.session.scalar(
        sa.select(MonthlyGift).filter_by(subscription_id=subscription_id)
    )
    if gift is None:
        gift = MonthlyGift(subscription_id=subscription_id, amount=0)
        db.session.add(gift)
    return gift


def on_checkout(session: dict, at: datetime, state: DonationState | None) -> None:
    """A finished Checkout: a one-off payment, or the start of a monthly gift."""
    details = session.get("customer_details") or {}
    donor = {
        "email": details.get("email") or session.get("customer_email"),
        "name": details.get("name") or _metadata(session).get("donor_name"),
        "customer_id": session.get("customer"),
        "currency": session.get("currency"),
    }
    if session.get("mode") == "subscription":
        fill(
            gift_for(session["subscription"]),
            amount=session.get("amount_total"),
            **donor,
        )
        return
    donation = find_donation(
        checkout_session_id=session["id"],
        payment_intent_id=session.get("payment_intent"),
    )
    donation.kind = DonationKind.ONE_OFF
    donation.locale = donor_locale(session) or donation.locale
    fill(donation, amount=session.get("amount_total"), **donor)
    if state is None:  # completed: paid now, or later by an async method
        paid = session.get("payment_status") in ("paid", "no_payment_required")
        state = DonationState.PAID if paid else DonationState.PENDING
    record_payment(donation, state, at)


def invoice_subscription(invoice: dict) -> str | None:
    """The subscription an invoice bills (new and old API shapes)."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription") or invoice.get("subscription")


def invoice_payment_intent(invoice: dict) -> str | None:
    """The payment intent that paid an invoice, when the event carries it."""
    for payment in (invoice.get("payments") or {}).get("data") or []:
        intent = (payment.get("payment") or {}).get("payment_intent")
        if intent:
            return intent
    return invoice.get("payment_intent")


def on_invoice(invoice: dict, at: datetime, state: DonationState) -> None:
    """One month of a monthly gift, paid or failed."""
    subscription = invoice_subscription(invoice)
    if not subscription:
        return  # not a monthly gift
    donor = {
        "email": invoice.get("customer_email"),
        "name": invoice.get("customer_name"),
        "customer_id": invoice.get("customer"),
        "currency": invoice.get("currency"),
    }
    amount = invoice.get("amount_paid") or invoice.get("amount_due")
    donation = find_donation(
        invoice_id=invoice["id"], payment_intent_id=invoice_payment_intent(invoice)
    )
    donation.kind = DonationKind.MONTHLY
    donation.subscription_id = checked("subscription_id", subscription)
    donation.locale = donor_locale(invoice) or donation.locale
    fill(donation, amount=amount, **donor)
    fill(gift_for(subscription), amount=invoice.get("amount_due") or amount, **donor)
    record_payment(donation, state, at)


def on_subscription_deleted(subscription: dict, at: datetime) -> None:
    """A monthly gift ended (by the donor, an organiser or failed payments)."""
    gift = gift_for(subscription["id"])
    items = (subscription.get("items") or {}).get("data") or [{}]
    price = items[0].get("price") or {}
    fill(
        gift,
        customer_id=subscription.get("customer"),
        amount=price.get("unit_amount"),
        currency=price.get("currency") or subscription.get("currency"),
    )
    gift.cancel()


def on_refund(charge: dict, at: datetime) -> None:
    """Money given back: the refunded amount, and the state once it is all back."""
    donation = find_donation(
        payment_intent_id=charge.get("payment_intent"), invoice_id=charge.get("invoice")
    )
    billing = charge.get("billing_details") or {}
    fill(
        donation,
        amount=charge.get("amount"),
        currency=charge.get("currency"),
        email=billing.get("email") or charge.get("receipt_email"),
        name=billing.get("name"),
        customer_id=charge.get("customer"),
    )
    refunded = checked("refunded_amount", charge.get("amount_refunded")) or 0
    donation.refunded_amount = max(donation.refunded_amount or 0, refunded)
    if charge.get("refunded"):
        donation.move_to(DonationState.REFUNDED)


HANDLERS = {
    "checkout.session.completed": lambda o, at: on_checkout(o, at, None),
    "checkout.session.async_payment_succeeded": lambda o, at: on_checkout(
        o, at, DonationState.PAID
    ),
    "checkout.session.async_payment_failed": lambda o, at: on_checkout(
        o, at, DonationState.FAILED
    ),
    "invoice.paid": lambda o, at: on_invoice(o, at, DonationState.PAID),
    "invoice.payment_failed": lambda o, at: on_invoice(o, at, DonationState.FAILED),
    "customer.subscription.deleted": on_subscription_deleted,
    "charge.refunded": on_refund,
}
