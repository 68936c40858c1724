"""The content revision: one saved version of a story's or petition's words."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.extensions import db
from campaign.models import UTCDateTime, now_utc

# The kinds of content that keep a history, and what organisers call them.
KINDS = {"story": _l("Story"), "petition": _l("Petition")}

# Each saved text field in organisers' words (a field not named here shows
# its code).
FIELD_LABELS = {
    "title": _l("Title"),
    "kicker": _l("Kicker"),
    "summary": _l("Summary"),
    "target": _l("Addressed to"),
    "body_markdown": _l("Text (Markdown)"),
    "sources": _l("Sources"),
}


class ContentRevision(db.Model):
    """The text fields of one language version of a story or petition, as one
    organiser saved them (kept when that organiser's account is erased)."""

    __tablename__ = "content_revision"
    __table_args__ = (
        sa.Index("ix_content_revision_object", "kind", "object_id", "locale", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    object_id: Mapped[int]
    locale: Mapped[str] = mapped_column(sa.String(16))
    fields: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    organiser_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organiser.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # The words as they stood before history was kept (no one saved them here).
    baseline: Mapped[bool] = mapped_column(default=False)

    organiser = relationship("Organiser", passive_deletes=True)

    @property
    def kind_label(self) -> str:
        """What organisers call this kind of content."""
        return KINDS.get(self.kind, self.kind)

    @property
    def title(self) -> str:
        """The content's title in this version (empty if it has none)."""
        return self.fields.get("title", "")


def field_label(name: str) -> str:
    """What organisers read for a saved field."""
    return FIELD_LABELS.get(name, name)
