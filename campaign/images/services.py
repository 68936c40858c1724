"""Image operations: give a story a header image, change its alt texts,
remove it, and read what pages and the file route need.

One unit of work per change, audited, and the public pages that show the
story are forgotten in the same call, so the next visitor sees the change.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from campaign.audit import record
from campaign.caching import remember
from campaign.extensions import cache, db
from campaign.images.models import CONTENT_TYPES, Image, ImageRendition
from campaign.images.processing import process
from campaign.story.models import Story
from campaign.story.services import forget_story


@dataclass(frozen=True)
class PublicImage:
    """What a page needs to show an image: cached, as it rarely changes."""

    id: int
    version: str
    widths: tuple[int, ...]  # the picture renditions, narrowest first
    width: int  # the widest rendition's size: the <img> width and height
    height: int
    alt_texts: tuple[tuple[str, str], ...]  # (locale, text), default first

    def alt(self, locale: str) -> tuple[str, str]:
        """``(locale, text)`` of the alt text for ``locale``'s readers (the
        default language's where that locale has none)."""
        texts = dict(self.alt_texts)
        if texts.get(locale):
            return locale, texts[locale]
        return self.alt_texts[0]


def story_image_row(story: Story) -> Image | None:
    """The story's current image row, if it has one."""
    return db.session.get(Image, story.image_id) if story.image_id else None


def _locked(story: Story) -> Story:
    """The story's row read afresh and locked until the commit (PostgreSQL;
    SQLite has one writer at a time anyway): two editors changing its image
    at once then take turns, and neither deletes an image the other chose."""
    db.session.refresh(story, with_for_update=True)
    return story


def set_story_image(
    story: Story, upload: bytes, alt_text: str, alt_texts: dict, organiser
) -> Image:
    """Clean ``upload`` into renditions and make it the story's image; the
    previous image is deleted (a removed photo must stop being served).
    Raises ImageRefused (nothing stored) when the file cannot be used."""
    # Before the lock: the Pillow work takes most of a second.
    processed = process(upload, current_app.config["IMAGE_MAX_PIXELS"])
    image = Image(
        version=processed.version,
        width=processed.width,
        height=processed.height,
        alt_text=alt_text,
        alt_texts=_present(alt_texts),
        renditions=[
            ImageRendition(
                kind=r.kind,
                width=r.width,
                height=r.height,
                digest=r.digest,
                data=r.data,
            )
            for r in processed.renditions
        ],
    )
    previous = _locked(story).image_id
    db.session.add(image)
    db.session.flush()
    story.image_id = image.id
    _delete_image(previous)
    record(organiser, "story-image", story.slug)
    _commit_and_forget(story, previous)
    return image


def change_alt_texts(story: Story, alt_text: str, alt_texts: dict, organiser):
    """Change the alt texts of the story's image (the file stays as it is);
    False if the story has no image (removed meanwhile)."""
    image = story_image_row(_locked(story))
    if image is None:
        return False
    image.alt_text = alt_text
    image.alt_texts = _present(alt_texts)
    record(organiser, "story-image-alt", story.slug)
    _commit_and_forget(story, image.id)
    return True


def remove_story_image(story: Story, organiser) -> bool:
    """Delete the story's image and its files; False if it had none."""
    image_id = _locked(story).image_id
    if image_id is None:
        db.session.rollback()  # let go of the lock
        return False
    story.image_id = None
    db.session.flush()
    _delete_image(image_id)
    record(organiser, "story-image-remove", story.slug)
    _commit_and_forget(story, image_id)
    return True


def _delete_image(image_id: int | None) -> None:
    """Delete an image and its files (by statement: no error if already gone)."""
    if image_id is None:
        return
    db.session.execute(sa.delete(ImageRendition).filter_by(image_id=image_id))
    db.session.execute(sa.delete(Image).filter_by(id=image_id))


def _present(alt_texts: dict) -> dict[str, str]:
    """Only the languages given an alt text."""
    return {locale: text for locale, text in alt_texts.items() if text}


def _commit_and_forget(story: Story, image_id: int | None) -> None:
    """Commit, then drop cached copies of the image and of the pages showing
    the story (its own page, the front page, in every language)."""
    slug = story.slug
    db.session.commit()
    if image_id is not None:
        cache.delete(_public_key(image_id))
    forget_story(slug)


def public_image(image_id: int | None) -> PublicImage | None:
    """The image's renditions and alt texts, for pages (cached)."""
    if image_id is None:
        return None

    def load() -> PublicImage | None:
        image = db.session.get(Image, image_id)
        if image is None:
            return None
        pictures = [r for r in image.renditions if r.kind == "jpeg"]
        default = current_app.config["BABEL_DEFAULT_LOCALE"]
        return PublicImage(
            image.id,
            image.version,
            tuple(r.width for r in pictures),
            pictures[-1].width,
            pictures[-1].height,
            ((default, image.alt_text), *sorted((image.alt_texts or {}).items())),
        )

    return remember(_public_key(image_id), load)


def _public_key(image_id: int) -> str:
    """Cache key of an image's page data."""
    return f"image/{image_id}"


def rendition(image_id: int, version: str, kind: str, width: int):
    """``(content type, digest, bytes)`` of one file, None if there is no such
    file at this version (an old URL of a replaced image)."""
    row = db.session.execute(
        sa.select(ImageRendition.kind, ImageRendition.digest, ImageRendition.data)
        .join(Image)
        .where(
            ImageRendition.image_id == image_id,
            ImageRendition.kind == kind,
            ImageRendition.width == width,
            Image.version == version,
        )
    ).first()
    if row is None:
        return None
    return CONTENT_TYPES[row.kind], row.digest, row.data
