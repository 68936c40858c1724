"""The campaigns index: every public story with its petition, open ones first.

A campaign is a story and the petition beside it (either may stand alone).
It is *open* while its petition takes signatures and its story is published;
closed and archived ones stay listed below, with their final count. Drafts
(of either) never appear.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from campaign.extensions import db
from campaign.localised import ORIGINAL, page_locale
from campaign.petition.models import Petition, PetitionState
from campaign.petition.services import petition_translation, public_count
from campaign.story.models import Story, StoryState
from campaign.story.services import story_translation

# At most this many campaigns are listed (the page is one list, not paged).
LIMIT = 200
# Petition states no visitor sees (the petition lifecycle may add a draft).
HIDDEN_PETITIONS = [state for state in PetitionState if state.value == "draft"]


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


def campaigns(locale: str | None = None) -> tuple[list[Campaign], list[Campaign]]:
    """The open campaigns and the closed ones, newest first."""
    locale = locale or page_locale()
    newest = (Story.published_on.desc().nulls_last(), Petition.id.desc())
    petitions = db.session.execute(
        sa.select(Petition, Story)
        .outerjoin(Story, Petition.story_id == Story.id)
        .where(
            Petition.state.not_in(HIDDEN_PETITIONS),
            sa.or_(Story.id.is_(None), Story.state != StoryState.DRAFT),
        )
        .order_by(*newest)
        .limit(LIMIT)
    ).all()
    entries = [_with_petition(petition, story, locale) for petition, story in petitions]
    alone = db.session.scalars(
        sa.select(Story)
        .where(
            Story.state != StoryState.DRAFT,
            ~sa.exists().where(Petition.story_id == Story.id),
        )
        .order_by(Story.published_on.desc(), Story.id.desc())
        .limit(LIMIT)
    )
    entries += [_story_alone(story, locale) for story in alone]
    return [e for e in entries if e.is_open], [e for e in entries if not e.is_open]


def _with_petition(petition: Petition, story: Story | None, locale: str) -> Campaign:
    """A petition's entry: its title, its story's summary and its count."""
    words = petition_translation(petition.id, locale) or petition
    story_words = (story_translation(story.id, locale) or story) if story else None
    is_open = petition.state is PetitionState.OPEN and (
        story is None or story.state is StoryState.PUBLISHED
    )
    return Campaign(
        title=words.title,
        summary=story_words.summary if story_words else "",
        endpoint="story.show" if story else "petition.show",
        slug=story.slug if story else petition.slug,
        is_open=is_open,
        locale=getattr(words, "locale", ORIGINAL),
        summary_locale=getattr(story_words, "locale", ORIGINAL),
        count=(count := public_count(petition.id)),
        goal=petition.goal_at(count),  # fixed, or stepped up (petition/goals.py)
    )


def _story_alone(story: Story, locale: str) -> Campaign:
    """A story without a petition: its title and summary."""
    words = story_translation(story.id, locale) or story
    return Campaign(
        title=words.title,
        summary=words.summary,
        endpoint="story.show",
        slug=story.slug,
        is_open=story.state is StoryState.PUBLISHED,
        locale=getattr(words, "locale", ORIGINAL),
        summary_locale=getattr(words, "locale", ORIGINAL),
    )
