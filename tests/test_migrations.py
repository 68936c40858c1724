"""The migrations build exactly the schema the models describe."""

import shutil

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from campaign.cli import seed_content
from campaign.extensions import db
from campaign.petition.models import Petition
from campaign.text import CONTENT_DIR
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


def test_upgrading_sanitises_html_stored_before_the_sanitiser(app, tmp_path):
    unsafe = '<img src="x" onerror="alert(1)"> <a href="javascript:alert(2)">go</a>'
    for name in ("story.md", "petition.md"):  # 0007 had no translations
        shutil.copy(CONTENT_DIR / name, tmp_path / name)
    with app.app_context():
        reset_database()
        # Seeded with today's models, then taken back to 0007 (the rows stay):
        # the models no longer fit a 0007 schema.
        flask_migrate.upgrade()
        seed_content(tmp_path)
        db.session.execute(
            sa.update(Petition).values(body_markdown=unsafe, body_html=unsafe)
        )
        db.session.commit()
        db.session.remove()
        flask_migrate.downgrade(revision="0007")
        flask_migrate.upgrade()
        stored = db.session.scalar(sa.select(Petition.body_html))
    assert "onerror" not in stored and "javascript:" not in stored
