"""Organisers' story operations: create and edit (every language at once),
publish, archive, back to draft, feature. Each is one unit of work with its
audit entry and, for saves, a revision per language; the public pages show
the change at once (their caches are dropped after the commit)."""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from campaign import slugs
from campaign.audit import record
from campaign.extensions import db
from campaign.localised import ORIGINAL, lang_and_dir
from campaign.organiser.settings import set_value
from campaign.petition.models import Petition
from campaign.revisions import record_revision, start_history
from campaign.story.models import Story, StoryState, StoryTranslation
from campaign.story.services import (
    FEATURED,
    all_stories,
    featured_story_id,
    forget_story,
    story_translation,
)
from campaign.text import render_markdown

KIND = "story"  # what revisions and slug redirects file stories under


class SlugTaken(Exception):
    """Another story has (or had) the address asked for."""


class NotAllowedNow(Exception):
    """The story's state does not allow that step (someone else moved it)."""


@dataclass(frozen=True)
class StoryText:
    """A story's words in one language."""

    title: str
    kicker: str = ""
    summary: str = ""
    body_markdown: str = ""
    sources: list[str] = field(default_factory=list)

    def revision_fields(self) -> dict[str, str]:
        """The text fields a revision keeps."""
        return {
            "title": self.title,
            "kicker": self.kicker,
            "summary": self.summary,
            "body_markdown": self.body_markdown,
            "sources": "\n".join(self.sources),
        }


# What a removed translation's revision records: every field empty.
REMOVED = StoryText(title="")

# The steps an organiser may take: the states each starts from, where it ends.
STEPS = {
    "publish": ({StoryState.DRAFT, StoryState.ARCHIVED}, StoryState.PUBLISHED),
    "archive": ({StoryState.PUBLISHED}, StoryState.ARCHIVED),
    "unpublish": ({StoryState.PUBLISHED, StoryState.ARCHIVED}, StoryState.DRAFT),
}


def text_of(story: Story, locale: str) -> StoryText | None:
    """The saved words of a story in one language (None: no translation)."""
    words = story if locale == ORIGINAL else story_translation(story.id, locale)
    if words is None:
        return None
    return StoryText(
        words.title,
        words.kicker,
        words.summary,
        words.body_markdown,
        list(words.sources or []),
    )


def save_story(
    story: Story | None,
    organiser,
    *,
    slug: str,
    published_on: date,
    texts: dict[str, StoryText | None],
) -> Story:
    """Create (``story`` None, as a draft) or change a story and its
    translations: ``texts`` has the English words under "en" and, for each
    other language, its words or None (no translation: removed if there
    was one). An empty ``slug`` keeps the story's, or derives a new one's from
    its title; a slug another story has or had raises SlugTaken."""
    original = texts[ORIGINAL]
    old_slug = story.slug if story else None
    new_slug = _slug_for(story, slug, original.title)
    if story is None:
        story = Story(slug=new_slug, state=StoryState.DRAFT)
        db.session.add(story)
    else:  # the words before this first recorded save, to compare it with
        for locale in texts:
            if (before := text_of(story, locale)) is not None:
                start_history(KIND, story.id, locale, before.revision_fields())
    _apply(story, original)
    story.published_on = published_on
    if old_slug is not None and new_slug != old_slug:
        slugs.rename_slug(KIND, story.id, old_slug, new_slug)
        story.slug = new_slug
    try:
        db.session.flush()  # an id for a new story's translations and revisions
    except sa.exc.IntegrityError:  # another save took the slug meanwhile
        db.session.rollback()
        raise SlugTaken from None
    record_revision(KIND, story.id, ORIGINAL, original.revision_fields(), organiser)
    for locale, words in texts.items():
        if locale != ORIGINAL:
            _save_translation(story, locale, words, organiser)
    action = "story.edit" if old_slug else "story.create"
    renamed = old_slug not in (None, story.slug)
    record(organiser, action, f"{old_slug} → {story.slug}" if renamed else story.slug)
    db.session.commit()
    forget_story(*{story.slug, old_slug or story.slug})
    return story


def _slug_for(story: Story | None, wanted: str, title: str) -> str:
    """The slug a save gives the story (see ``save_story``)."""
    if not wanted:
        if story is not None:
            return story.slug
        return slugs.available_slug(KIND, slugs.derive_slug(title))
    if slugs.slug_owner(KIND, wanted) not in (None, story.id if story else None):
        raise SlugTaken
    return wanted


def _apply(words: Story | StoryTranslation, text: StoryText) -> None:
    """Put one language's words on its row, the body rendered and sanitised."""
    words.title = text.title
    words.kicker = text.kicker
    words.summary = text.summary
    words.body_markdown = text.body_markdown
    words.body_html = render_markdown(text.body_markdown)
    words.sources = list(text.sources)


def _save_translation(
    story: Story, locale: str, text: StoryText | None, organiser
) -> None:
    """Create, change or remove one translation, with its revision."""
    saved = story_translation(story.id, locale)
    if text is None:
        if saved is not None:
            db.session.delete(saved)
            record_revision(
                KIND, story.id, locale, REMOVED.revision_fields(), organiser
            )
        return
    if saved is None:
        saved = StoryTranslation(story_id=story.id, locale=locale)
        db.session.add(saved)
    _apply(saved, text)
    record_revision(KIND, story.id, locale, text.revision_fields(), organiser)


def take_step(story: Story, organiser, step: str) -> None:
    """Publish, archive or unpublish a story (NotAllowedNow if its state has
    moved on); a story leaving "published" stops being featured."""
    starts, ends = STEPS[step]
    moved = db.session.execute(
        sa.update(Story)
        .where(Story.id == story.id, Story.state.in_(starts))
        .values(state=ends)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.rollback()
        raise NotAllowedNow
    if ends is not StoryState.PUBLISHED and featured_story_id() == story.id:
        set_value(FEATURED, None)
    record(organiser, f"story.{step}", story.slug)
    db.session.commit()
    db.session.refresh(story)
    forget_story(story.slug)


def feature_story(story: Story, organiser) -> None:
    """Show this published story at ``/`` (instead of any other); NotAllowedNow
    unless it is published."""
    # Touching the row holds it published until the commit (PostgreSQL).
    held = db.session.execute(
        sa.update(Story)
        .where(Story.id == story.id, Story.state == StoryState.PUBLISHED)
        .values(state=StoryState.PUBLISHED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not held:
        db.session.rollback()
        raise NotAllowedNow
    set_value(FEATURED, str(story.id))
    record(organiser, "story.feature", story.slug)
    db.session.commit()
    forget_story(story.slug)


@dataclass(frozen=True)
class Preview:
    """One language's words as the public page would show them."""

    locale: str
    text: StoryText
    body_html: str
    lang: str  # the HTML lang and dir of the language
    dir: str


def preview(texts: dict[str, StoryText | None]) -> list[Preview]:
    """Each language's words with the body rendered and sanitised exactly as
    a save would, without saving anything."""
    return [
        Preview(
            locale, text, render_markdown(text.body_markdown), **lang_and_dir(locale)
        )
        for locale, text in texts.items()
        if text is not None
    ]


@dataclass(frozen=True)
class Row:
    """One story in the organisers' list."""

    story: Story
    featured: bool
    petitions: list[Petition]  # the petitions beside it


def overview() -> list[Row]:
    """Every story, newest first, with its petitions and whether it is featured."""
    featured = featured_story_id()
    petitions: dict[int, list] = {}
    for petition in db.session.scalars(
        sa.select(Petition).where(Petition.story_id.is_not(None)).order_by(Petition.id)
    ):
        petitions.setdefault(petition.story_id, []).append(petition)
    return [
        Row(story, story.id == featured, petitions.get(story.id, []))
        for story in all_stories()
    ]
