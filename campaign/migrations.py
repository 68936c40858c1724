"""Flask-Migrate, bound to the app the first time a migration needs it.

Importing Flask-Migrate imports Alembic, a fifth of a second that every
``flask`` command (an export, say) would otherwise pay for nothing. So the
factory only records where the migrations are and adds a ``flask db`` group
that loads Flask-Migrate's commands when one of them is asked for; code that
reads ``app.extensions["migrate"]`` (Flask-Migrate's functions, Alembic's
``env.py``) binds it on first access.
"""

import click
from flask import Flask, current_app

from campaign.extensions import db
from campaign.paths import folder


class _Unbound:
    """Stands in ``app.extensions["migrate"]`` until Flask-Migrate is needed."""

    def __init__(self, app: Flask):
        """Remember the app to bind Flask-Migrate to."""
        self.app = app

    def __getattr__(self, name: str):
        """Bind Flask-Migrate, then answer from its configuration."""
        return getattr(bind(self.app), name)


def bind(app: Flask):
    """Bind Flask-Migrate to the app (once); return its configuration."""
    found = app.extensions.get("migrate")
    if found is None or isinstance(found, _Unbound):
        from flask_migrate import Migrate

        directory = app.config.get("MIGRATIONS_DIR") or folder("migrations")
        Migrate(app, db, directory=directory)
        found = app.extensions["migrate"]
    return found


class _LazyDbGroup(click.Group):
    """``flask db``: Flask-Migrate's own group, imported when it is invoked."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        """Bind Flask-Migrate and let its group parse the command line."""
        bind(current_app)
        from flask_migrate.cli import db as group

        return group.make_context(info_name, args, parent=parent, **extra)


def register(app: Flask) -> None:
    """Give the app migrations: ``flask db …``, bound on first use."""
    app.extensions["migrate"] = _Unbound(app)
    app.cli.add_command(_LazyDbGroup("db", help="Perform database migrations."))
