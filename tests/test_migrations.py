"""The migrations build exactly the schema the models describe."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from campaign.extensions import db
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
