"""The image tables: an uploaded image's alt texts and its cleaned renditions.

The renditions' bytes live in the database, not on disk: every app machine
behind nginx then serves the same files without a shared or synced folder,
backups and erasure cover them with everything else, and a deploy never
loses them. They are small (a story's set is well under a megabyte) and
served with a year-long immutable Cache-Control, so nginx or the browser
answers nearly every request and the database is read once per file.

The uploaded original is never stored: it may carry the photographer's GPS
position and camera; only pixels re-encoded by ``processing`` are kept.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.extensions import db
from campaign.models import TimestampMixin

# What each rendition kind is served as.
CONTENT_TYPES = {"webp": "image/webp", "jpeg": "image/jpeg", "card": "image/jpeg"}


class Image(TimestampMixin, db.Model):
    """One uploaded image: its alt texts and the version its URLs carry."""

    __tablename__ = "image"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A hash of the renditions' bytes, in every URL: a new image is a new URL,
    # so caches may keep each one for ever (ids alone can be reused by SQLite).
    version: Mapped[str] = mapped_column(sa.String(16))
    # The cleaned image's size in pixels (after EXIF orientation).
    width: Mapped[int]
    height: Mapped[int]
    # Required: what the image shows, for people who cannot see it.
    alt_text: Mapped[str] = mapped_column(sa.String(300))
    # The alt text in other site languages: {"fa_AF": "...", "ps": "..."}.
    alt_texts: Mapped[dict[str, str]] = mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )

    renditions = relationship(
        "ImageRendition",
        back_populates="image",
        cascade="all, delete-orphan",
        order_by="ImageRendition.width",
    )


class ImageRendition(db.Model):
    """One encoded file of an image: a width in WebP or JPEG, or the social card."""

    __tablename__ = "image_rendition"
    __table_args__ = (sa.UniqueConstraint("image_id", "kind", "width"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(sa.ForeignKey("image.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(8))  # webp, jpeg or card
    width: Mapped[int]
    height: Mapped[int]
    # The SHA-256 of ``data``: the file's ETag.
    digest: Mapped[str] = mapped_column(sa.String(64))
    # Deferred: listing an image's renditions never reads their bytes.
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)

    image = relationship("Image", back_populates="renditions")

    @property
    def content_type(self) -> str:
        """The file's MIME type."""
        return CONTENT_TYPES[self.kind]
