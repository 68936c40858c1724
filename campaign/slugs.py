"""Slugs: the words in a story's or petition's address, made from a title,
checked, and kept redirecting after a rename.

``derive_slug`` writes ASCII only (letters lose their accents); a title with
no ASCII letters or digits at all, as in Dari or Pashto, gives the neutral
``campaign-<today>`` instead, which an organiser may then change.
``rename_slug`` records the old slug; ``follow_slug`` gives the slug an old
one now leads to, for public views to answer 301.
"""

import re
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from flask import abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column
from wtforms.validators import ValidationError

from campaign.extensions import db
from campaign.models import UTCDateTime, now_utc

SLUG_MAX = 120
SLUG_SHAPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# The table holding each kind's current slugs (its ``slug`` column).
TABLES = {"story": "story", "petition": "petition"}
SLUG_RULE = _l(
    "Use only lowercase letters a to z, digits and single hyphens between "
    "them, like clean-water-now."
)


class SlugRedirect(db.Model):
    """An old slug of a story or petition, and the slug it leads to now."""

    __tablename__ = "slug_redirect"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    old_slug: Mapped[str] = mapped_column(sa.String(SLUG_MAX))
    object_id: Mapped[int]
    slug: Mapped[str] = mapped_column(sa.String(SLUG_MAX))  # the current one
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.UniqueConstraint("kind", "old_slug"),
        sa.Index("ix_slug_redirect_object", "kind", "object_id"),
    )


def derive_slug(text: str) -> str:
    """An ASCII, lowercase, hyphenated slug of at most 120 characters from a
    title; ``campaign-<today>`` when the title has no ASCII letter or digit."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.decode().lower()).strip("-")
    if len(slug) > SLUG_MAX:  # cut at a word's end where there is one
        cut = slug[: SLUG_MAX + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:SLUG_MAX]
    return slug or f"campaign-{now_utc():%Y-%m-%d}"


def is_slug(text: str) -> bool:
    """Whether ``text`` is a well-formed slug."""
    return len(text) <= SLUG_MAX and SLUG_SHAPE.fullmatch(text) is not None


def lowercase(value):
    """Form filter: a slug typed with capitals means the same in lowercase."""
    return value.lower() if isinstance(value, str) else value


def slug_field_check(form, field) -> None:
    """Form validator: a slug an organiser typed is well formed."""
    if field.data and not is_slug(field.data):
        raise ValidationError(SLUG_RULE)


def _current_slugs(kind: str):
    """The column of a kind's current slugs."""
    return sa.table(TABLES[kind], sa.column("id"), sa.column("slug"))


def slug_owner(kind: str, slug: str) -> int | None:
    """The id of the story or petition that has ``slug``, now or as an old
    slug that still redirects."""
    table = _current_slugs(kind)
    found = db.session.scalar(sa.select(table.c.id).where(table.c.slug == slug))
    if found is not None:
        return found
    return db.session.scalar(
        sa.select(SlugRedirect.object_id).filter_by(kind=kind, old_slug=slug)
    )


def available_slug(kind: str, wanted: str, object_id: int | None = None) -> str:
    """``wanted``, or the first of ``wanted-2``, ``wanted-3``… no other story
    or petition uses (its own slugs, old or current, count as free)."""
    candidate, n = wanted, 1
    while slug_owner(kind, candidate) not in (None, object_id):
        n += 1
        suffix = f"-{n}"
        candidate = wanted[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
    return candidate


def rename_slug(kind: str, object_id: int, old: str, new: str) -> None:
    """Record that ``old`` now leads to ``new`` (in the caller's unit of
    work): older slugs follow to ``new`` too, and ``new`` stops redirecting
    if it was an old slug. The caller changes the object's own slug."""
    if old == new:
        return
    db.session.execute(
        sa.update(SlugRedirect)
        .filter_by(kind=kind, object_id=object_id)
        .values(slug=new)
    )
    db.session.execute(
        sa.delete(SlugRedirect).filter_by(kind=kind, object_id=object_id, old_slug=new)
    )
    db.session.add(SlugRedirect(kind=kind, old_slug=old, object_id=object_id, slug=new))


def follow_slug(kind: str, slug: str) -> str | None:
    """The current slug an old one leads to (None: it leads nowhere)."""
    return db.session.scalar(
        sa.select(SlugRedirect.slug).filter_by(kind=kind, old_slug=slug)
    )


def moved_or_404(kind: str, slug: str):
    """In a view addressed by ``slug``: send a renamed story's or petition's
    old address on to the same page at its current slug (301; 308 for a
    form, so it is posted again), else answer 404."""
    current = follow_slug(kind, slug)
    if current is None:
        abort(404)
    values = {**request.view_args, "slug": current, **request.args}
    status = 301 if request.method in ("GET", "HEAD") else 308
    abort(redirect(url_for(request.endpoint, **values), status))
