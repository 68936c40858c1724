"""The campaigns index: every public story with its petition, open ones first.

A campaign is a story and the petition beside it (either may stand alone).
It is *open* while its petition takes signatures and its story is published;
closed and archived ones stay listed below, with their final count. Drafts
(of either) never appear. The petitions, their counts and goals come from
the petition lifecycle's ``listed_petitions``; this adds their stories.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from campaign.extensions import db
from campaign.localised import ORIGINAL, page_locale
from campaign.petition.lifecycle import ListedPetition, listed_petitions
from campaign.petition.models import Petition
from campaign.story.models import Story, StoryState, StoryTranslation


@dataclass(frozen=True)
class Campaign:
    """One entry of the index, in the page's language where it has one."""

    title: str
    summary: str
    endpoint: str  # the page it links to: the story's, else the petition's
    slug: str
    is_open: bool
    locale: str = ORIGINAL  # the language of the title
    summary_locale: str = ORIGINAL  # ... and of the summary
    count: int | None = None  # confirmed signatures; None without a petition
    goal: int | None = None


@dataclass(frozen=True)
class _StoryWords:
    """What the index shows of a story, in one language."""

    slug: str
    title: str
    summary: str
    state: StoryState
    locale: str


def campaigns(locale: str | None = None) -> tuple[list[Campaign], list[Campaign]]:
    """The open campaigns and the closed ones (open: newest first)."""
    locale = locale or page_locale()
    stories = _public_stories(locale)
    entries = [
        _with_petition(petition, stories.get(petition.story_id))
        for petition in listed_petitions(locale)
        # A petition beside a draft story waits for its story.
        if petition.story_id is None or petition.story_id in stories
    ]
    with_petition = db.session.scalars(
        sa.select(Petition.story_id).where(Petition.story_id.is_not(None)).distinct()
    )
    alone = set(stories) - set(with_petition)
    entries += [
        _story_alone(words) for story_id, words in stories.items() if story_id in alone
    ]
    return [e for e in entries if e.is_open], [e for e in entries if not e.is_open]


def _public_stories(locale: str) -> dict[int, _StoryWords]:
    """Every published or archived story by id, newest first, in ``locale``'s
    words where it has a translation."""
    rows = db.session.execute(
        sa.select(Story, StoryTranslation)
        .outerjoin(
            StoryTranslation,
            sa.and_(
                StoryTranslation.story_id == Story.id,
                StoryTranslation.locale == locale,
            ),
        )
        .where(Story.state != StoryState.DRAFT)
        .order_by(Story.published_on.desc(), Story.id.desc())
    )
    found = {}
    for story, translation in rows:
        words = translation or story
        found[story.id] = _StoryWords(
            story.slug,
            words.title,
            words.summary,
            story.state,
            translation.locale if translation else ORIGINAL,
        )
    return found


def _with_petition(petition: ListedPetition, story: _StoryWords | None) -> Campaign:
    """A petition's entry: its title, its story's summary, count and goal."""
    is_open = petition.is_open and (
        story is None or story.state is StoryState.PUBLISHED
    )
    return Campaign(
        title=petition.title,
        summary=story.summary if story else "",
        endpoint="story.show" if story else "petition.show",
        slug=story.slug if story else petition.slug,
        is_open=is_open,
        locale=petition.locale,
        summary_locale=story.locale if story else ORIGINAL,
        count=petition.count,
        goal=petition.goal,
    )


def _story_alone(story: _StoryWords) -> Campaign:
    """A story without a petition: its title and summary."""
    return Campaign(
        title=story.title,
        summary=story.summary,
        endpoint="story.show",
        slug=story.slug,
        is_open=story.state is StoryState.PUBLISHED,
        locale=story.locale,
        summary_locale=story.locale,
    )
