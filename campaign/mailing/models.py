"""Subscribers, their consents, the suppression list, broadcasts, deliveries."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.encryption import Encrypted
from campaign.extensions import db
from campaign.models import TimestampMixin, UTCDateTime, enum_column, now_utc
from campaign.outbox import OutboxMixin


class SubscriberState(enum.Enum):
    """Where an address is on the list."""

    PENDING = "pending"  # asked to join, has not clicked the link yet
    SUBSCRIBED = "subscribed"  # confirmed: receives list mail
    UNSUBSCRIBED = "unsubscribed"  # left; may come back from preferences

    @property
    def label(self) -> str:
        """What organisers read for this state: the list page's words."""
        return SUBSCRIBER_STATE_LABELS[self]


SUBSCRIBER_STATE_LABELS = {
    SubscriberState.PENDING: _l("Waiting to confirm"),
    SubscriberState.SUBSCRIBED: _l("Subscribed"),
    SubscriberState.UNSUBSCRIBED: _l("Unsubscribed"),
}


class SubscriberNotice(enum.Enum):
    """An email due to a subscriber, waiting for the sender task."""

    CONFIRM = "confirm"  # the link that completes the double opt-in
    ALREADY_SUBSCRIBED = "already_subscribed"  # a repeat sign-up


class Subscriber(OutboxMixin, TimestampMixin, db.Model):
    """One address on the mailing list."""

    __tablename__ = "subscriber"
    __table_args__ = (
        sa.Index(
            "ix_subscriber_notice_due",
            "id",
            postgresql_where=sa.text("notice IS NOT NULL"),
            sqlite_where=sa.text("notice IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Personal data, encrypted at rest (campaign/encryption.py).
    email: Mapped[str] = mapped_column(Encrypted("subscriber.email"))
    name: Mapped[str | None] = mapped_column(Encrypted("subscriber.name"))
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    state: Mapped[SubscriberState] = mapped_column(
        enum_column(SubscriberState), default=SubscriberState.PENDING, index=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locale: Mapped[str] = mapped_column(sa.String(16), default="en", index=True)
    # The secret in every unsubscribe and preferences link (never expires).
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # email_hash(email): one row per address, and the same hash as
    # Signature.email_hash and Suppression.email_key, so joins are by hash.
    email_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    soft_bounces: Mapped[int] = mapped_column(default=0)
    notice: Mapped[SubscriberNotice | None] = mapped_column(
        enum_column(SubscriberNotice)
    )

    consents = relationship(
        "Consent", order_by="Consent.id", cascade="all, delete-orphan"
    )


class Consent(db.Model):
    """What someone agreed to, when and where: the proof behind each opt-in."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Which form: "join", "story", "petition:<slug>", "preferences", or
    # "import:<name>" for a list an organiser imported (mailing/imports.py).
    source: Mapped[str] = mapped_column(sa.String(160), index=True)
    # The words next to the box or button, as shown.
    wording: Mapped[str] = mapped_column(sa.Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # True when no one clicked a link: an organiser importing the address
    # attested that the person had already agreed (to ``wording``).
    attested: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class SuppressionReason(enum.Enum):
    """Why an address must never be mailed again."""

    UNSUBSCRIBED = "unsubscribed"
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"


class Suppression(db.Model):
    """An address list mail never goes to, kept as a keyed hash only.

    Keeping no readable address means an erased supporter stays unmailed.
    ``email_key`` is ``email_hash(email)``; rows from before migration 0021
    whose address was already erased keep their old SECRET_KEY hash, which
    ``campaign.mailing.services.legacy_suppression_key`` still matches.
    """

    __tablename__ = "suppression"

    email_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    reason: Mapped[SuppressionReason] = mapped_column(enum_column(SuppressionReason))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class Audience(enum.Enum):
    """Who a broadcast goes to."""

    SUBSCRIBERS = "subscribers"  # everyone subscribed
    PETITION = "petition"  # subscribers who signed (and confirmed) a petition
    # A petition's confirmed signers who asked for its updates (list
    # subscribers or not): ledger rows name the signature, not a subscriber
    # (campaign/mailing/signer_updates.py).
    PETITION_UPDATES = "petition_updates"


class BroadcastState(enum.Enum):
    """Where a broadcast is, from draft to done."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """What organisers read for this state."""
        return BROADCAST_STATE_LABELS[self]


BROADCAST_STATE_LABELS = {
    BroadcastState.DRAFT: _l("Draft"),
    BroadcastState.SCHEDULED: _l("Scheduled"),
    BroadcastState.SENDING: _l("Sending"),
    BroadcastState.SENT: _l("Sent"),
    BroadcastState.CANCELLED: _l("Cancelled"),
}


class Broadcast(TimestampMixin, db.Model):
    """An email organisers write once and send to an audience."""

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    audience: Mapped[Audience] = mapped_column(
        enum_column(Audience), default=Audience.SUBSCRIBERS
    )
    petition_id: Mapped[int | None] = mapped_column(sa.ForeignKey("petition.id"))
    state: Mapped[BroadcastState] = mapped_column(
        enum_column(BroadcastState), default=BroadcastState.DRAFT, index=True
    )
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(default=0)
    # The segment: only subscribers with this language, country or consent
    # source (each None: any); see mailing/subscribers.py.
    segment_locale: Mapped[str | None] = mapped_column(sa.String(16))
    segment_country: Mapped[str | None] = mapped_column(sa.String(2))
    segment_source: Mapped[str | None] = mapped_column(sa.String(160))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL")
    )

    petition = relationship("Petition")
    created_by = relationship("Organiser")
    versions = relationship(
        "BroadcastVersion",
        order_by="BroadcastVersion.locale",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class BroadcastVersion(db.Model):
    """A broadcast's subject and text in a language other than English.

    The ``Broadcast`` row holds the English version, which every subscriber
    whose language has no version of its own receives.
    """

    __tablename__ = "broadcast_version"
    __table_args__ = (sa.UniqueConstraint("broadcast_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        sa.ForeignKey("broadcast.id", ondelete="CASCADE")
    )
    locale: Mapped[str] = mapped_column(sa.String(16))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_markdown: Mapped[str] = mapped_column(sa.Text)


class DeliveryState(enum.Enum):
    """One recipient's copy of a broadcast (the ledger's states)."""

    PENDING = "pending"  # not sent yet, or in a run's hands (see DeliveryRun)
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # refused for good; never retried
    SKIPPED = "skipped"  # left the list before their turn came
    UNKNOWN = "unknown"  # a run died mid-send: maybe delivered, never resent

    @property
    def label(self) -> str:
        """What organisers read for this state."""
        return DELIVERY_STATE_LABELS[self]


DELIVERY_STATE_LABELS = {
    DeliveryState.PENDING: _l("Waiting to send"),
    DeliveryState.SENT: _l("Sent"),
    DeliveryState.FAILED: _l("Refused by the mail server"),
    DeliveryState.SKIPPED: _l("Not sent: left the list first"),
    DeliveryState.UNKNOWN: _l("Unknown"),
}


class Delivery(db.Model):
    """The ledger: one row per recipient per broadcast, made when sending starts."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "subscriber_id"),
        # A petition update's copies name the signature (Audience.PETITION_UPDATES).
        sa.UniqueConstraint("broadcast_id", "signature_id"),
        # Claims walk a broadcast's pending rows in id order: with the id in
        # the index they stop after a batch instead of sorting all of them.
        sa.Index("ix_delivery_broadcast_state", "broadcast_id", "state", "id"),
        # Room on each page for the claim's update to stay on the page (a
        # PostgreSQL "HOT" update, which writes no index entries).
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        sa.ForeignKey("broadcast.id", ondelete="CASCADE")
    )
    # Erasing a subscriber keeps the count of what was sent, not who.
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscriber.id", ondelete="SET NULL")
    )
    # Instead of a subscriber, for a petition update's copies; set to NULL by
    # an erasure like the subscriber.
    signature_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("signature.id", ondelete="SET NULL")
    )
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # The DeliveryRun holding this row. Not indexed: every lookup by claim
    # also names the broadcast or the rows' ids, and an index on a column
    # the claim changes would make every claim write index entries.
    claim: Mapped[str | None] = mapped_column(sa.String(32))
    # After a temporary refusal: not before this time (backoff).
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.String(300))


class DeliveryRun(db.Model):
    """One run's claim on a batch of deliveries, and how far it has gone.

    The run sends its rows in id order. ``handed`` is the highest delivery id
    it may hand to SMTP, committed before any copy up to it goes out;
    ``accepted`` the highest id the server has accepted (refusals are
    recorded on their rows at once). Settling the run turns its rows up to
    ``accepted`` SENT, those up to ``handed`` UNKNOWN and gives back the rest.
    """

    __tablename__ = "delivery_run"

    token: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        sa.ForeignKey("broadcast.id", ondelete="CASCADE"), index=True
    )
    # The lowest and highest delivery ids claimed: settling looks only there
    # (a broadcast's earlier rows leave index entries behind until vacuum).
    first: Mapped[int]
    last: Mapped[int]
    handed: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    # Moved on by every step: a run silent for BROADCAST_CLAIM_TIMEOUT is dead.
    heartbeat: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
