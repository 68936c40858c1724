"""A petition's life: created as a draft, published, closed, reopened,
archived; and the list of published petitions (the campaigns index's query).

Each transition is a named function doing one conditional UPDATE from the
state it starts from (STYLE.md), so two organisers clicking at once move the
petition once; each is audited and drops the cached public pages.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from campaign import slugs
from campaign.audit import record
from campaign.extensions import db
from campaign.localised import ORIGINAL, page_locale
from campaign.models import now_utc
from campaign.petition.goals import GoalMode, shown_goal
from campaign.petition.models import (
    CounterShard,
    Petition,
    PetitionState,
    PetitionTranslation,
)
from campaign.petition.services import TEXT_FIELDS, SlugTaken, forget_petition
from campaign.revisions import record_revision
from campaign.text import render_markdown

# Where each transition may start, and where it leads.
DRAFT, OPEN, CLOSED, ARCHIVED = PetitionState
PUBLISHED = (OPEN, CLOSED, ARCHIVED)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TransitionRefused(Exception):
    """The petition was not in the state the transition starts from."""


def create_petition(
    organiser,
    *,
    title: str,
    target: str,
    body_markdown: str,
    goal: int,
    goal_mode: GoalMode = GoalMode.FIXED,
    slug: str | None = None,
    story_id: int | None = None,
) -> Petition:
    """A new petition, as a draft nobody but organisers sees (audited, and
    the first version in its history).

    ``slug`` as chosen (SlugTaken if another petition has or had it), or
    made from the title (with -2, -3 … when taken).
    """
    if slug and slugs.slug_owner("petition", slug) is not None:
        raise SlugTaken(slugs.available_slug("petition", slug))
    petition = Petition(
        slug=slug or slugs.available_slug("petition", slugs.derive_slug(title)),
        title=title,
        target=target,
        body_markdown=body_markdown,
        body_html=render_markdown(body_markdown),
        goal=goal,
        goal_mode=goal_mode,
        story_id=story_id,
        state=DRAFT,
    )
    db.session.add(petition)
    db.session.flush()
    words = {name: getattr(petition, name) for name in TEXT_FIELDS}
    record_revision("petition", petition.id, ORIGINAL, words, organiser)
    record(organiser, "create-petition", petition.slug)
    chosen = petition.slug
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # another petition took the slug meanwhile
        db.session.rollback()
        raise SlugTaken(slugs.available_slug("petition", chosen)) from None
    return petition


def _move(petition: Petition, organiser, action: str, source, target, **values):
    """Move ``petition`` from ``source`` to ``target`` if it is still there."""
    moved = db.session.execute(
        sa.update(Petition)
        .where(Petition.id == petition.id, Petition.state == source)
        .values(state=target, updated_at=now_utc(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.rollback()
        raise TransitionRefused(action)
    record(organiser, action, petition.slug)
    db.session.commit()  # expires ``petition``: it reads the new state back
    forget_petition(petition)


def publish_petition(petition: Petition, organiser) -> None:
    """A draft goes public and takes signatures."""
    _move(petition, organiser, "publish-petition", DRAFT, OPEN)


def close_petition(petition: Petition, organiser) -> None:
    """An open petition stops taking signatures; its page stays, with its count."""
    _move(petition, organiser, "close-petition", OPEN, CLOSED, closed_at=now_utc())


def reopen_petition(petition: Petition, organiser) -> None:
    """A closed petition takes signatures again."""
    _move(petition, organiser, "reopen-petition", CLOSED, OPEN, closed_at=None)


def archive_petition(petition: Petition, organiser) -> None:
    """A closed petition leaves the open list for good; its page stays."""
    _move(petition, organiser, "archive-petition", CLOSED, ARCHIVED)


@dataclass(frozen=True)
class ListedPetition:
    """A published petition as a list of campaigns shows it, in one language
    (``locale``: its words' language, "en" where it has no version)."""

    slug: str
    title: str
    target: str
    state: PetitionState
    count: int
    goal: int  # the goal shown beside the count (petition/goals.py)
    story_id: int | None
    closed_at: datetime | None
    locale: str = ORIGINAL

    @property
    def is_open(self) -> bool:
        """Whether it takes signatures."""
        return self.state is OPEN


def listed_petitions(locale: str | None = None) -> list[ListedPetition]:
    """Every published petition: open ones first (newest first), then closed
    and archived ones (latest closed first), each with its count and goal."""
    locale = locale or page_locale()
    petitions = list(
        db.session.scalars(
            sa.select(Petition)
            .where(Petition.state.in_(PUBLISHED))
            .order_by(Petition.id.desc())
        )
    )
    ids = [p.id for p in petitions]
    counts = dict(
        db.session.execute(
            sa.select(CounterShard.petition_id, sa.func.sum(CounterShard.count))
            .where(CounterShard.petition_id.in_(ids))
            .group_by(CounterShard.petition_id)
        ).all()
    )
    words = {}
    if locale != ORIGINAL:
        words = {
            row.petition_id: row
            for row in db.session.scalars(
                sa.select(PetitionTranslation).where(
                    PetitionTranslation.petition_id.in_(ids),
                    PetitionTranslation.locale == locale,
                )
            )
        }
    listed = [
        _listed(p, int(counts.get(p.id) or 0), words.get(p.id)) for p in petitions
    ]
    open_ones = [p for p in listed if p.is_open]
    closed = [p for p in listed if not p.is_open]
    closed.sort(key=_latest_closed, reverse=True)  # stable: newest first on ties
    return open_ones + closed


def _latest_closed(listed: ListedPetition) -> tuple:
    """Sort key: when it closed (any closed before dates were kept: last)."""
    return (listed.closed_at is not None, listed.closed_at or EPOCH)


def _listed(petition: Petition, count: int, translation) -> ListedPetition:
    """One petition as listed, in its translation's words where it has one."""
    text = translation or petition
    return ListedPetition(
        petition.slug,
        text.title,
        text.target,
        petition.state,
        count,
        shown_goal(petition.goal, petition.goal_mode, count),
        petition.story_id,
        petition.closed_at,
        translation.locale if translation else ORIGINAL,
    )


def story_choices() -> list[tuple[int, str]]:
    """The stories a petition may belong to, as (id, title), newest first."""
    # The table, not the story package's model: features depend one way
    # (story → petition), and a petition only needs the stories' names.
    story = db.metadata.tables["story"]
    rows = db.session.execute(
        sa.select(story.c.id, story.c.title).order_by(story.c.id.desc())
    )
    return [(row.id, row.title) for row in rows]
