"""The record of each retention run: when, and how many rows each step took."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from campaign.extensions import db
from campaign.models import UTCDateTime, now_utc


class RetentionRun(db.Model):
    """One run of the retention steps (campaign/retention/services.py)."""

    __tablename__ = "retention_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # None while running (or if the run died part-way).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rows each step changed, by step name ({"pending_signatures": 3, …}).
    counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
