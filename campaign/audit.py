"""The audit log: who changed or took out what, and when (never whose data).

Every organiser action that changes something or takes data out (content
edits, account and role changes, sends, moderation, exports, erasure)
records an entry here. Entries name the organiser and the thing acted on
(a petition, a broadcast, an account), never a supporter.
"""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
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

    @property
    def label(self) -> str:
        """What organisers read for the action (its code if it has no label)."""
        return ACTION_LABELS.get(self.action, self.action)


# The audit log's "What" column: each action code in organisers' words.
ACTION_LABELS = {
    "add-organiser": _l("Added an organiser"),
    "change-password": _l("Changed their password"),
    "activate": _l("Switched an account on"),
    "deactivate": _l("Switched an account off"),
    "change-role": _l("Changed a role"),
    "two-factor-on": _l("Turned two-factor sign-in on"),
    "two-factor-off": _l("Turned two-factor sign-in off"),
    "change-setting": _l("Changed a setting"),
    "broadcast.save": _l("Saved a broadcast"),
    "broadcast.schedule": _l("Scheduled a broadcast"),
    "broadcast.cancel": _l("Cancelled a broadcast"),
    "broadcast.send": _l("Sent a broadcast"),
    "broadcast.test": _l("Sent a test copy of a broadcast"),
    "broadcast.delete": _l("Deleted a draft broadcast"),
    "mailing.bounce": _l("Recorded a bounce or complaint"),
    "import-subscribers": _l("Imported subscribers"),
    "export-subscribers": _l("Exported subscribers"),
    "invalidate": _l("Invalidated signatures"),
    "hide-public": _l("Hid a name from the public list"),
    "hide-comment": _l("Hid a comment"),
    "restore": _l("Restored signatures"),
    "undo-invalidate": _l("Undid an invalidation"),
    "show-public": _l("Showed a hidden name again"),
    "show-comment": _l("Showed a hidden comment again"),
    "undo-hide-public": _l("Undid hiding a name"),
    "undo-hide-comment": _l("Undid hiding a comment"),
    "edit-petition": _l("Edited a petition"),
    "story.create": _l("Wrote a story"),
    "story.edit": _l("Edited a story"),
    "story.publish": _l("Published a story"),
    "story.archive": _l("Archived a story"),
    "story.unpublish": _l("Took a story back to draft"),
    "story.feature": _l("Featured a story on the front page"),
    "story-image": _l("Set a story's image"),
    "story-image-alt": _l("Changed a story image's alt text"),
    "story-image-remove": _l("Removed a story's image"),
    "create-petition": _l("Created a petition"),
    "publish-petition": _l("Published a petition"),
    "close-petition": _l("Closed a petition"),
    "reopen-petition": _l("Reopened a petition"),
    "archive-petition": _l("Archived a petition"),
    "petition-update.post": _l("Posted a petition update"),
    "petition-update.email": _l("Emailed a petition update"),
    "erase-supporter": _l("Erased a supporter"),
    "export-supporter": _l("Downloaded a supporter's data"),
    "self-erase": _l("A supporter erased their own data"),
    "self-export": _l("A supporter asked for a copy of their data"),
    "print-signatures": _l("Printed the signatures"),
    "pdf-signatures": _l("Made the petition PDF"),
    "export": _l("Exported a table"),
    "export-signatures": _l("Exported signatures"),
    "export-donations": _l("Exported donations"),
    "retention": _l("Deleted or anonymised old personal data"),
    "rotate-keys": _l("Re-encrypted personal data under a new key"),
}


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
