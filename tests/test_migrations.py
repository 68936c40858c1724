"""The migrations build exactly the schema the models describe."""

from datetime import UTC, date, datetime

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from campaign.extensions import db
from campaign.petition.models import Petition
from campaign.story.models import Story, StoryState
from tests.helpers import reset_database


def test_migrations_match_the_models(app):
    with app.app_context():
        reset_database()
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == []


def test_migrations_downgrade_cleanly(app):
    with app.app_context():
        reset_database()
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_upgrading_sanitises_html_stored_before_the_sanitiser(app):
    unsafe = '<img src="x" onerror="alert(1)"> <a href="javascript:alert(2)">go</a>'
    # Rows as 0007 stored them, written with that schema's columns only (the
    # models describe today's).
    story = sa.table(
        "story",
        *map(sa.column, ("id", "slug", "title", "kicker", "summary")),
        *map(sa.column, ("published_on", "body_markdown", "body_html", "sources")),
        *map(sa.column, ("created_at", "updated_at")),
    )
    petition = sa.table(
        "petition",
        *map(sa.column, ("id", "slug", "story_id", "title", "target", "goal")),
        *map(sa.column, ("body_markdown", "body_html", "state")),
        *map(sa.column, ("created_at", "updated_at")),
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    times = {"created_at": now, "updated_at": now}
    with app.app_context():
        reset_database()
        flask_migrate.upgrade(revision="0007")
        db.session.execute(
            story.insert().values(
                id=1,
                slug="s",
                title="S",
                kicker="",
                summary="",
                published_on=date(2026, 1, 1),
                body_markdown=unsafe,
                body_html=unsafe,
                sources="[]",
                **times,
            )
        )
        db.session.execute(
            petition.insert().values(
                id=1,
                slug="p",
                story_id=1,
                title="P",
                target="T",
                goal=10,
                body_markdown=unsafe,
                body_html=unsafe,
                state="open",
                **times,
            )
        )
        db.session.commit()
        db.session.remove()
        flask_migrate.downgrade(revision="0007")
        flask_migrate.upgrade()
        stored = db.session.scalar(sa.select(Petition.body_html))
        story_html = db.session.scalar(sa.select(Story.body_html))
        state = db.session.scalar(sa.select(Story.state))
    assert "onerror" not in story_html and "javascript:" not in story_html
    assert state is StoryState.PUBLISHED  # stories from before states stay public
    assert "onerror" not in stored and "javascript:" not in stored
