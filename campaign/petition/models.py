"""Petitions, their signatures and the sharded confirmed-signature counter."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.encryption import Encrypted
from campaign.extensions import db
from campaign.models import TimestampMixin, UTCDateTime, enum_column, now_utc
from campaign.outbox import OutboxMixin
from campaign.petition.goals import GoalMode, shown_goal

# The text beside ``Signature.join_list``, word for word: a signer who ticks it
# and confirms joins the organisation's mailing list (all its campaigns), and
# the consent records keep this text. It names the list so that it never reads
# like the box below, which is about this one petition.
PETITION_WORDING = _l("Also add me to the mailing list: news about all our campaigns")
# The text beside ``Signature.wants_updates``: updates about this petition only
# (campaign/petition/updates.py), stopped by the link in each of them.
UPDATES_WORDING = _l("Email me about this petition's progress")


class PetitionState(enum.Enum):
    """Where a petition is in its life: a draft only organisers see, open
    (taking signatures), closed (readable, final count), archived (readable,
    left out of the open list). The transitions are in services.py."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        """What organisers read for this state: the dashboard's words."""
        return PETITION_STATE_LABELS[self]

    @property
    def is_public(self) -> bool:
        """Whether the public may read the petition (every state but a draft)."""
        return self is not PetitionState.DRAFT


PETITION_STATE_LABELS = {
    PetitionState.DRAFT: _l("Draft"),
    PetitionState.OPEN: _l("Open"),
    PetitionState.CLOSED: _l("Closed"),
    PetitionState.ARCHIVED: _l("Archived"),
}


class SignatureState(enum.Enum):
    """Where a signature is in its life (after alphagov/e-petitions)."""

    PENDING = "pending"  # stored, waiting for the emailed link
    VALIDATED = "validated"  # confirmed by email: counts
    INVALIDATED = "invalidated"  # removed by an organiser
    FRAUDULENT = "fraudulent"  # removed as abuse

    @property
    def label(self) -> str:
        """What organisers read for this state: the dashboard's words."""
        return SIGNATURE_STATE_LABELS[self]


SIGNATURE_STATE_LABELS = {
    SignatureState.PENDING: _l("Pending"),
    SignatureState.VALIDATED: _l("Confirmed"),
    SignatureState.INVALIDATED: _l("Removed"),
    SignatureState.FRAUDULENT: _l("Removed as abuse"),
}


class Notice(enum.Enum):
    """An email due to a signer, waiting for the sender task."""

    CONFIRM = "confirm"  # the confirmation link (first attempt, or again)
    ALREADY_SIGNED = "already_signed"  # a repeat after confirming


class Petition(TimestampMixin, db.Model):
    """A petition: what is asked, of whom, and the goal."""

    __tablename__ = "petition"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    story_id: Mapped[int | None] = mapped_column(sa.ForeignKey("story.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    target: Mapped[str] = mapped_column(sa.String(500))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    goal: Mapped[int] = mapped_column(default=1000)
    goal_mode: Mapped[GoalMode] = mapped_column(
        enum_column(GoalMode), default=GoalMode.FIXED, server_default="fixed"
    )
    # A petition starts as a draft; content loaded by the seed starts open.
    state: Mapped[PetitionState] = mapped_column(
        enum_column(PetitionState), default=PetitionState.DRAFT
    )
    # When it last closed (shown on its page while closed or archived).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    story = relationship("Story")

    @property
    def is_open(self) -> bool:
        """Whether the petition takes new signatures."""
        return self.state is PetitionState.OPEN

    def goal_at(self, count: int) -> int:
        """The goal shown beside ``count`` confirmed signatures."""
        return shown_goal(self.goal, self.goal_mode, count)


class PetitionTranslation(TimestampMixin, db.Model):
    """A petition's words in another language; the English row is the original."""

    __tablename__ = "petition_translation"
    __table_args__ = (sa.UniqueConstraint("petition_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("petition.id", ondelete="CASCADE")
    )
    locale: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(300))
    target: Mapped[str] = mapped_column(sa.String(500))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)

    petition = relationship("Petition")


class Signature(OutboxMixin, TimestampMixin, db.Model):
    """One person's signature on one petition."""

    __tablename__ = "signature"
    __table_args__ = (
        # One signature per person per petition, whatever the race (NULL
        # once anonymised, and NULLs never collide).
        sa.UniqueConstraint("petition_id", "email_hash"),
        # The latest public signers, read on every petition page.
        sa.Index("ix_signature_public_latest", "petition_id", "state", "validated_at"),
        # A petition's signatures in a time window: charts, trending addresses.
        sa.Index("ix_signature_petition_created", "petition_id", "created_at"),
        # The outbox: only rows with an email due are indexed.
        sa.Index(
            "ix_signature_notice_due",
            "id",
            postgresql_where=sa.text("notice IS NOT NULL"),
            sqlite_where=sa.text("notice IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(sa.ForeignKey("petition.id"))
    # Personal data, encrypted at rest (campaign/encryption.py).
    name: Mapped[str] = mapped_column(Encrypted("signature.name"))
    email: Mapped[str] = mapped_column(Encrypted("signature.email"))
    # The keyed hash of the canonical address: how a signer is found.
    email_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # The keyed hash of the address's domain (the moderation filter).
    domain_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    country: Mapped[str] = mapped_column(sa.String(2))
    comment: Mapped[str | None] = mapped_column(Encrypted("signature.comment"))
    join_list: Mapped[bool] = mapped_column(default=False)
    # Asked for this petition's updates (the box with UPDATES_WORDING), and
    # not since stopped them with the link in one.
    wants_updates: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    updates_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public: Mapped[bool] = mapped_column(default=False)
    # An organiser stopped showing the comment (the name may still show).
    comment_hidden: Mapped[bool] = mapped_column(
        default=False, server_default=sa.false()
    )
    # An organiser stopped showing the name (``public`` stays the signer's
    # own choice, so showing it again never shows a name they kept private).
    name_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The moderation action that invalidated this signature, so "Undo" puts
    # back exactly the signatures that action took (campaign/petition/moderation.py).
    removal: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    state: Mapped[SignatureState] = mapped_column(
        enum_column(SignatureState), default=SignatureState.PENDING
    )
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the signer used, for the emails we send them.
    locale: Mapped[str] = mapped_column(sa.String(16), default="en")
    # A keyed hash of the client address, for spotting abuse; never the raw IP.
    ip_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # The email due to this signer, if any (campaign/outbox.py sends it).
    notice: Mapped[Notice | None] = mapped_column(enum_column(Notice))

    petition = relationship("Petition")
    consents = relationship(
        "SignatureConsent", order_by="SignatureConsent.id", cascade="all, delete-orphan"
    )


def not_anonymised():
    """The test that a signature still holds its signer's details: retention
    (campaign/retention/services.py) blanks them and clears this hash with them.

    A test on the hash, not the name: the name is encrypted, so SQL cannot
    tell a blank one."""
    return Signature.email_hash.is_not(None)


class ConsentPurpose(enum.Enum):
    """Which box at signing a consent record is for."""

    UPDATES = "updates"  # this petition's updates (UPDATES_WORDING)
    LIST = "list"  # the organisation's mailing list (PETITION_WORDING)


class SignatureConsent(db.Model):
    """A box a signer ticked: the words shown beside it, in the language the
    page was in, and when. Written with the signature, in the same statement's
    unit of work; the list box's record is copied to the subscriber's consent
    when the address is proven (campaign/mailing/services.py)."""

    __tablename__ = "signature_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        sa.ForeignKey("signature.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_column(ConsentPurpose))
    wording: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(16))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class PetitionUpdate(TimestampMixin, db.Model):
    """News about a petition an editor posts on its page (and may email to
    the signers who asked for it). This row holds the English version."""

    __tablename__ = "petition_update"
    __table_args__ = (sa.Index("ix_petition_update_shown", "petition_id", "posted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("petition.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    posted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL")
    )
    # The broadcast that emailed it (campaign/mailing/signer_updates.py), once
    # an editor confirmed; set once, so an update is emailed at most once.
    broadcast_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("broadcast.id", ondelete="SET NULL"), unique=True
    )

    petition = relationship("Petition")
    posted_by = relationship("Organiser")
    versions = relationship(
        "PetitionUpdateVersion",
        order_by="PetitionUpdateVersion.locale",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class PetitionUpdateVersion(db.Model):
    """An update's title and text in a language other than English."""

    __tablename__ = "petition_update_version"
    __table_args__ = (sa.UniqueConstraint("update_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        sa.ForeignKey("petition_update.id", ondelete="CASCADE")
    )
    locale: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(200))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)


class CounterShard(db.Model):
    """One of several rows whose sum is a petition's confirmed count.

    Confirmations add to a random shard, so concurrent confirmations rarely
    wait on the same row and no request counts the signature table.
    """

    __tablename__ = "petition_counter_shard"

    petition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("petition.id"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class PdfState(enum.Enum):
    """Where a petition PDF made in the background is."""

    QUEUED = "queued"
    WORKING = "working"
    DONE = "done"
    FAILED = "failed"


class PetitionPdf(db.Model):
    """A petition PDF made by a worker, kept in the database for a day so any
    app machine can hand it over (campaign/petition/delivery.py)."""

    __tablename__ = "petition_pdf"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unguessable name in the progress page's address.
    key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    petition_id: Mapped[int] = mapped_column(
        sa.ForeignKey("petition.id", ondelete="CASCADE"), index=True
    )
    organiser_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organiser.id"))
    state: Mapped[PdfState] = mapped_column(
        enum_column(PdfState), default=PdfState.QUEUED
    )
    # The language the PDF is written in (the organiser's page language).
    locale: Mapped[str] = mapped_column(sa.String(16), default="en")
    signers: Mapped[int | None]  # names to print, once the worker has counted them
    progress: Mapped[int | None]  # names laid out so far (the progress page)
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=now_utc, index=True
    )
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    petition = relationship("Petition")
    organiser = relationship("Organiser")
