"""Organiser accounts (the audit log lives in campaign/audit.py)."""

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from campaign.extensions import db
from campaign.models import TimestampMixin, UTCDateTime, enum_column
from campaign.permissions import Role


def new_session_token() -> str:
    """A random token naming one generation of an organiser's sessions."""
    return secrets.token_urlsafe(24)


class Organiser(UserMixin, TimestampMixin, db.Model):
    """Someone who runs the campaign."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.STAFF)
    active: Mapped[bool] = mapped_column(default=True)
    # Changing it (new password, sign-out everywhere) ends every session.
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def get_id(self) -> str:
        """Sessions carry the token, not the id, so they can be revoked."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        """Deactivated organisers cannot sign in."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """Whether this organiser may manage accounts and erase data."""
        return self.role is Role.ADMIN
