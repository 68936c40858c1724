"""Organiser accounts, their sessions and second factors, and site settings
(the audit log lives in campaign/audit.py)."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.encryption import Encrypted
from campaign.extensions import db
from campaign.models import TimestampMixin, UTCDateTime, enum_column, now_utc
from campaign.permissions import Role


class Organiser(UserMixin, TimestampMixin, db.Model):
    """Someone who runs the campaign."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.STAFF)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The TOTP secret (base32), set when enrolment starts; two_factor_on once a
    # code has confirmed it. Encrypted at rest (campaign/encryption.py).
    totp_secret: Mapped[str | None] = mapped_column(Encrypted("organiser.totp_secret"))
    two_factor_on: Mapped[bool] = mapped_column(default=False)
    # The time step of the last code accepted: a code is never taken twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    # The raw token of the session this request runs in (set by sessions.py,
    # never stored): Flask-Login keeps it in the cookie, the database its hash.
    session_token = None

    def get_id(self) -> str | None:
        """Cookies carry a server-side session's token, never the account id."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        """Deactivated organisers cannot sign in."""
        return self.active


class OrganiserSession(db.Model):
    """One signed-in browser: deleting the row signs it out."""

    __tablename__ = "organiser_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the cookie's token: a copy of the table opens no session.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    organiser_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_seen_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=now_utc, index=True
    )

    organiser = relationship("Organiser")


class RecoveryCode(db.Model):
    """A one-time code that stands in for a lost authenticator (hash only)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Setting(db.Model):
    """A site-wide setting admins change at /organiser/settings."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(500))
