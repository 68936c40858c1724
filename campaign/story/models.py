"""The story model."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

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
