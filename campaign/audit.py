"""The audit log: who changed or took out what, and when (never whose data).

Every organiser action that changes something or takes data out (content
edits, account and role changes, sends, moderation, exports, erasure)
records an entry here. Entries name the organiser and the thing acted on
(a petition, a broadcast, an account), never a supporter.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.extensions import db
from campaign.models import UTCDateTime, now_utc


class AuditEntry(db.Model):
    """One action an organiser took."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    organiser_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organiser.id"))
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    rows: Mapped[int | None]

    organiser = relationship("Organiser")


def record(organiser, action: str, detail: str, rows: int | None = None) -> None:
    """Add an entry to the audit log (in the caller's unit of work)."""
    db.session.add(
        AuditEntry(
            organiser_id=organiser.id if organiser else None,
            action=action,
            detail=detail,
            rows=rows,
        )
    )


def audit(organiser, action: str, detail: str, rows: int | None = None) -> None:
    """Record an action in the audit log, in a unit of its own."""
    record(organiser, action, detail, rows)
    db.session.commit()


def latest(limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        )
    )
