"""Story operations: find the front-page story in a language, load content."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from campaign.caching import remember
from campaign.extensions import cache, db
from campaign.http_cache import pages_changed
from campaign.localised import ORIGINAL, page_locale
from campaign.story.models import Story, StoryTranslation
from campaign.text import render_markdown

FRONT_KEY = "front-story"


@dataclass(frozen=True)
class PublicStory:
    """What the front page shows of a story: it changes only when the content
    is loaded again, so it is cached rather than read on every view.

    ``locale`` is the language of the text (a translation's, or "en" for the
    original); ``original_title`` the English title a translation links to.
    """

    id: int
    slug: str
    title: str
    kicker: str
    summary: str
    published_on: date
    body_html: str
    sources: tuple[str, ...]
    locale: str = ORIGINAL
    original_title: str = ""
    image_id: int | None = None  # its header image (campaign/images/)

    @property
    def is_translation(self) -> bool:
        """Whether this is a translation rather than the English original."""
        return self.locale != ORIGINAL


def front_story(locale: str | None = None) -> PublicStory | None:
    """The story shown at ``/`` (the most recently published one) in the page's
    language, or in English where it has no translation (cached per locale)."""
    locale = locale or page_locale()

    def load() -> PublicStory | None:
        query = sa.select(Story).order_by(Story.published_on.desc(), Story.id.desc())
        story = db.session.scalars(query.limit(1)).first()
        if story is None:
            return None
        text = story_translation(story.id, locale) or story
        return PublicStory(
            story.id,
            story.slug,
            text.title,
            text.kicker,
            text.summary,
            story.published_on,
            text.body_html,
            tuple(getattr(text, "sources", None) or story.sources or ()),
            getattr(text, "locale", ORIGINAL),
            story.title,
            story.image_id,
        )

    return remember(_front_key(locale), load)


def _front_key(locale: str) -> str:
    """Cache key of the front story in one language."""
    return f"{FRONT_KEY}/{locale}"


def story_translation(story_id: int, locale: str) -> StoryTranslation | None:
    """The story's translation into ``locale``, if it has one (never English)."""
    if locale == ORIGINAL:
        return None
    return db.session.scalar(
        sa.select(StoryTranslation).filter_by(story_id=story_id, locale=locale)
    )


def forget_front_story(locales) -> None:
    """Drop the cached front story in each language after its text changed."""
    cache.delete_many(*(_front_key(locale) for locale in locales))
    pages_changed()


def upsert_story(meta: dict, body: str) -> Story:
    """Create the story from content, or leave an existing one as it is."""
    story = db.session.scalar(sa.select(Story).filter_by(slug=meta["slug"]))
    if story is None:
        story = Story(
            slug=meta["slug"],
            title=meta["title"],
            kicker=meta.get("kicker", ""),
            summary=meta.get("summary", ""),
            published_on=meta["date"],
            body_markdown=body,
            body_html=render_markdown(body),
            sources=list(meta.get("sources", [])),
        )
        db.session.add(story)
        db.session.flush()
    return story


def upsert_story_translation(
    story: Story, locale: str, meta: dict, body: str
) -> StoryTranslation | None:
    """Create the story's translation from content, or leave an existing one
    as it is; return it only when it was created."""
    if story_translation(story.id, locale) is not None:
        return None
    translation = StoryTranslation(
        story_id=story.id,
        locale=locale,
        title=meta["title"],
        kicker=meta.get("kicker", ""),
        summary=meta.get("summary", ""),
        body_markdown=body,
        body_html=render_markdown(body),
        sources=list(meta.get("sources", [])),
    )
    db.session.add(translation)
    db.session.flush()
    return translation
