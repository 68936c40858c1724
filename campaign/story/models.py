"""The story model and its translations into other languages."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.extensions import db
from campaign.models import TimestampMixin


class Story(TimestampMixin, db.Model):
    """A published article, with its Markdown source and rendered HTML."""

    __tablename__ = "story"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    kicker: Mapped[str] = mapped_column(sa.String(120), default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    published_on: Mapped[date] = mapped_column(sa.Date)
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    sources: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
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
