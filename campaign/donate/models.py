"""Donations as Stripe confirms them, monthly gifts, and the events already seen.

Rows are only ever written from Stripe's webhook: a donation is real when
Stripe says it is paid. Monthly gifts are a ``MonthlyGift`` (the Stripe
subscription: active or cancelled) plus one ``Donation`` per paid invoice.
Amounts are integers in the currency's smallest unit (cents for USD).
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from campaign.encryption import Encrypted
from campaign.extensions import db
from campaign.models import TimestampMixin, UTCDateTime, now_utc
from campaign.petition.models import enum_column


class DonationKind(enum.Enum):
    """A single gift, or one month of a monthly gift."""

    ONE_OFF = "one_off"
    MONTHLY = "monthly"

    @property
    def label(self) -> str:
        """What organisers and donors read for this kind."""
        return DONATION_KIND_LABELS[self]


DONATION_KIND_LABELS = {
    DonationKind.ONE_OFF: _l("One-off"),
    DonationKind.MONTHLY: _l("Monthly"),
}


class DonationState(enum.Enum):
    """Where a payment is; events may arrive in any order, so states only rise."""

    PENDING = "pending"  # checkout finished, the payment method settles later
    FAILED = "failed"  # the payment did not go through
    PAID = "paid"  # the money arrived
    REFUNDED = "refunded"  # paid, then given back in full

    @property
    def rank(self) -> int:
        """Later states win over earlier ones, whatever order events come in."""
        return list(DonationState).index(self)

    @property
    def label(self) -> str:
        """What organisers read for this state."""
        return DONATION_STATE_LABELS[self]


DONATION_STATE_LABELS = {
    DonationState.PENDING: _l("Pending"),
    DonationState.FAILED: _l("Failed"),
    DonationState.PAID: _l("Paid"),
    DonationState.REFUNDED: _l("Refunded"),
}


class GiftState(enum.Enum):
    """Whether a monthly gift still takes a payment each month."""

    ACTIVE = "active"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """What organisers read for this state."""
        return GIFT_STATE_LABELS[self]


GIFT_STATE_LABELS = {
    GiftState.ACTIVE: _l("Active"),
    GiftState.CANCELLED: _l("Cancelled"),
}


# What forgetting a donor sets on a donation or a monthly gift (erasure on
# request, retention after the accounting years): the amounts, dates and
# Stripe ids stay, which the accounts need.
DONOR_BLANKED = {"name": None, "email": None, "email_hash": None}


class Donation(TimestampMixin, db.Model):
    """One payment: a one-off gift, or one month's invoice of a monthly gift."""

    __tablename__ = "donation"
    __table_args__ = (
        # The receipt outbox: only rows with a receipt due are indexed.
        sa.Index(
            "ix_donation_receipt_due",
            "id",
            postgresql_where=sa.text("receipt_due_at IS NOT NULL"),
            sqlite_where=sa.text("receipt_due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DonationKind] = mapped_column(
        enum_column(DonationKind), default=DonationKind.ONE_OFF
    )
    state: Mapped[DonationState] = mapped_column(
        enum_column(DonationState), default=DonationState.PENDING
    )
    amount: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), default="usd")
    refunded_amount: Mapped[int] = mapped_column(default=0)
    # Only what Stripe returns about the donor: personal data, erasable,
    # encrypted at rest; found by the keyed hash of the address.
    email: Mapped[str | None] = mapped_column(Encrypted("donation.email"))
    name: Mapped[str | None] = mapped_column(Encrypted("donation.name"))
    email_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # Whichever Stripe ids an event carries find the row (upsert by any of them).
    checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    invoice_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    subscription_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    customer_id: Mapped[str | None] = mapped_column(sa.String(255))
    # The language the donor used on the site, for the receipt.
    locale: Mapped[str] = mapped_column(
        sa.String(16), default="en", server_default="en"
    )
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The receipt outbox (see campaign/outbox.py): due, claimed, sent.
    receipt_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_claim: Mapped[str | None] = mapped_column(sa.String(32))
    receipt_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def move_to(self, state: DonationState) -> bool:
        """Take a later state (never an earlier one); say whether it changed."""
        if self.state is not None and state.rank <= self.state.rank:
            return False
        self.state = state
        return True


class MonthlyGift(TimestampMixin, db.Model):
    """A monthly gift: one Stripe subscription; its payments are Donations."""

    __tablename__ = "monthly_gift"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    customer_id: Mapped[str | None] = mapped_column(sa.String(255))
    state: Mapped[GiftState] = mapped_column(
        enum_column(GiftState), default=GiftState.ACTIVE
    )
    amount: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), default="usd")
    email: Mapped[str | None] = mapped_column(Encrypted("monthly_gift.email"))
    name: Mapped[str | None] = mapped_column(Encrypted("monthly_gift.name"))
    email_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def cancel(self) -> None:
        """Stop counting this gift as active (cancellation is final)."""
        if self.state is not GiftState.CANCELLED:
            self.state = GiftState.CANCELLED
            self.cancelled_at = now_utc()


class StripeEvent(db.Model):
    """A webhook event already handled: a redelivery of it changes nothing."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
