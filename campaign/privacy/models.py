"""The salts of the client-address key windows (campaign/privacy/client_keys.py)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from campaign.extensions import db
from campaign.models import UTCDateTime


class ClientKeyWindow(db.Model):
    """One window of CLIENT_KEY_HOURS and the random salt of its key.

    Retention deletes the row once the window is CLIENT_KEY_KEEP_DAYS old:
    without the salt, nobody (even with CLIENT_KEY_SECRET) can make the
    window's key again, so its client keys cannot be linked to addresses.
    """

    __tablename__ = "client_key_window"

    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    salt: Mapped[str] = mapped_column(sa.String(64))
