"""Story operations: find the front-page story, load it from content."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from campaign.caching import remember
from campaign.extensions import db
from campaign.story.models import Story
from campaign.text import render_markdown

FRONT_KEY = "front-story"


@dataclass(frozen=True)
class PublicStory:
    """What the front page shows of a story: it changes only when the content
    is loaded again, so it is cached rather than read on every view."""

    id: int
    slug: str
    title: str
    kicker: str
    summary: str
    published_on: date
    body_html: str
    sources: tuple[str, ...]


def front_story() -> PublicStory | None:
    """The story shown at ``/``: the most recently published one (cached)."""

    def load() -> PublicStory | None:
        query = sa.select(Story).order_by(Story.published_on.desc(), Story.id.desc())
        story = db.session.scalars(query.limit(1)).first()
        if story is None:
            return None
        return PublicStory(
            story.id,
            story.slug,
            story.title,
            story.kicker,
            story.summary,
            story.published_on,
            story.body_html,
            tuple(story.sources or ()),
        )

    return remember(FRONT_KEY, load)


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
