"""Story reads for the public pages (the front story, a story by its slug,
cached per language) and loading the content files."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from campaign.caching import remember
from campaign.extensions import cache, db
from campaign.http_cache import pages_changed
from campaign.localised import ORIGINAL, page_locale
from campaign.organiser.settings import get_value
from campaign.story.models import Story, StoryState, StoryTranslation
from campaign.text import render_markdown

FRONT_KEY = "front-story"
# The site setting naming the story an organiser chose for the front page.
FEATURED = "featured_story"


@dataclass(frozen=True)
class PublicStory:
    """What a story page shows of a story: it changes only when an organiser
    saves it, so it is cached rather than read on every view.

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
    state: StoryState = StoryState.PUBLISHED
    image_id: int | None = None  # its header image (campaign/images/)

    @property
    def is_translation(self) -> bool:
        """Whether this is a translation rather than the English original."""
        return self.locale != ORIGINAL

    @property
    def is_archived(self) -> bool:
        """Whether the campaign is over (still readable, with a notice)."""
        return self.state is StoryState.ARCHIVED

    @property
    def is_draft(self) -> bool:
        """Whether only organisers may see it."""
        return self.state is StoryState.DRAFT

    @classmethod
    def of(cls, story: Story, locale: str) -> "PublicStory":
        """A loaded story in ``locale``'s words, or English where it has none."""
        text = story_translation(story.id, locale) or story
        return cls(
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
            story.state,
            story.image_id,
        )


def featured_story_id() -> int | None:
    """The id of the story an organiser featured, if any."""
    value = get_value(FEATURED)
    return int(value) if value and value.isdigit() else None


def front_story(locale: str | None = None) -> PublicStory | None:
    """The story shown at ``/``: the featured one, else the latest published,
    in the page's language or in English (cached per locale)."""
    locale = locale or page_locale()

    def load() -> PublicStory | None:
        published = sa.select(Story).filter_by(state=StoryState.PUBLISHED)
        featured = featured_story_id()
        story = None
        if featured is not None:
            story = db.session.scalar(published.filter_by(id=featured))
        if story is None:
            latest = published.order_by(Story.published_on.desc(), Story.id.desc())
            story = db.session.scalars(latest.limit(1)).first()
        return PublicStory.of(story, locale) if story else None

    return remember(_front_key(locale), load)


def public_story(slug: str, locale: str | None = None) -> PublicStory | None:
    """The published or archived story with this slug, in the page's language
    (cached per locale); None for a draft or an unknown slug."""
    locale = locale or page_locale()

    def load() -> PublicStory | None:
        story = get_story(slug)
        if story is None or not story.state.is_public:
            return None
        return PublicStory.of(story, locale)

    return remember(_public_key(slug, locale), load)


def any_story(slug: str, locale: str | None = None) -> PublicStory | None:
    """The story with this slug in any state, drafts included (organisers'
    view; never cached, so a preview is always the saved text)."""
    story = get_story(slug)
    return PublicStory.of(story, locale or page_locale()) if story else None


def get_story(slug: str) -> Story | None:
    """The story with this slug."""
    return db.session.scalar(sa.select(Story).filter_by(slug=slug))


def all_stories() -> list[Story]:
    """Every story, newest first."""
    query = sa.select(Story).order_by(Story.published_on.desc(), Story.id.desc())
    return list(db.session.scalars(query))


def _front_key(locale: str) -> str:
    """Cache key of the front story in one language."""
    return f"{FRONT_KEY}/{locale}"


def _public_key(slug: str, locale: str) -> str:
    """Cache key of a story's public text in one language."""
    return f"story-public/{slug}/{locale}"


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


def forget_story(*slugs: str) -> None:
    """Drop what is cached of stories (under each of ``slugs``, old and new)
    and of the front page, in every language, and the pages showing them."""
    locales = current_app.config["LANGUAGES"]
    keys = [_public_key(slug, locale) for slug in slugs for locale in locales]
    cache.delete_many(*keys)
    forget_front_story(locales)


def upsert_story(meta: dict, body: str) -> Story:
    """Create the story from content (published), or leave an existing one."""
    story = get_story(meta["slug"])
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
            state=StoryState.PUBLISHED,
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
