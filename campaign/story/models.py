"""The story model, its states, and its translations into other languages."""

import enum
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.extensions import db
from campaign.models import TimestampMixin, enum_column


class StoryState(enum.Enum):
    """Where a story is in its life: only published and archived ones are public."""

    DRAFT = "draft"  # being written: organisers only
    PUBLISHED = "published"  # public, listed, may be featured
    ARCHIVED = "archived"  # still readable at its URL, with a notice; not listed

    @property
    def label(self) -> str:
        """What organisers read for this state."""
        return STORY_STATE_LABELS[self]

    @property
    def is_public(self) -> bool:
        """Whether anyone may read a story in this state."""
        return self is not StoryState.DRAFT


STORY_STATE_LABELS = {
    StoryState.DRAFT: _l("Draft"),
    StoryState.PUBLISHED: _l("Published"),
    StoryState.ARCHIVED: _l("Archived"),
}


class Story(TimestampMixin, db.Model):
    """An article, with its Markdown source and rendered HTML."""

    __tablename__ = "story"
    # The public lists: published stories, newest first.
    __table_args__ = (sa.Index("ix_story_state_published_on", "state", "published_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    kicker: Mapped[str] = mapped_column(sa.String(120), default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    published_on: Mapped[date] = mapped_column(sa.Date)
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    sources: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    state: Mapped[StoryState] = mapped_column(
        enum_column(StoryState), default=StoryState.DRAFT
    )
    # The header image (campaign/images/), if the story has one.
    image_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("image.id", ondelete="SET NULL")
    )


class StoryTranslation(TimestampMixin, db.Model):
    """The story in another language; the English ``Story`` row is the original."""

    __tablename__ = "story_translation"
    __table_args__ = (sa.UniqueConstraint("story_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(sa.ForeignKey("story.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(300))
    kicker: Mapped[str] = mapped_column(sa.String(120), default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    # The sources' names as this language writes them (empty: the original's).
    sources: Mapped[list[str]] = mapped_column(
        sa.JSON, default=list, server_default="[]"
    )

    story = relationship("Story")
