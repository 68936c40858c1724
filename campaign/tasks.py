"""The Celery app, bound to Flask so every task runs in an app context.

Workers start with ``celery -A wsgi:celery worker``. The broker is Redis in
production and a SQLite file in the embedded default (see config.py).

Importing Celery takes a fifth of a second, which every ``flask`` command
(an export, a migration) would pay for nothing: the Celery app is built the
first time something needs it (a worker, a signature's email, the health
check), from the settings ``celery_init_app`` records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from celery import Celery

# Modules whose tasks a worker must know (they are imported lazily elsewhere).
TASK_MODULES = [
    "campaign.petition.tasks",
    "campaign.mailing.tasks",
    "campaign.donate.tasks",
    "campaign.retention.tasks",
    "campaign.privacy.tasks",
]


def celery_init_app(app: Flask) -> None:
    """Record that this Flask app has a Celery app, built on first use."""
    app.extensions["celery"] = None


def celery_app(app: Flask) -> Celery:
    """This Flask app's Celery app, built and made the default on first use."""
    found = app.extensions.get("celery")
    if found is None:
        found = app.extensions["celery"] = _build(app)
    return found


def delay(task, *args):
    """Queue ``task`` on the current app's Celery app (built on first use)."""
    celery_app(current_app)
    return task.delay(*args)


def _build(app: Flask) -> Celery:
    """Create the Celery app for this Flask app and make it the default."""
    from celery import Celery, Task

    class FlaskTask(Task):
        """A task that runs inside the Flask app context."""

        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    built = Celery(app.name, task_cls=FlaskTask, include=TASK_MODULES)
    built.config_from_object(app.config["CELERY"])
    built.set_default()
    return built
