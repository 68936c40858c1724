"""Story operations: find the front-page story, load it from content."""

import sqlalchemy as sa

from campaign.extensions import db
from campaign.story.models import Story
from campaign.text import render_markdown


def front_story() -> Story | None:
    """The story shown at ``/``: the most recently published one."""
    query = sa.select(Story).order_by(Story.published_on.desc(), Story.id.desc())
    return db.session.scalars(query.limit(1)).first()


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
