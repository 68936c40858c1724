"""The Celery app, bound to Flask so every task runs in an app context.

Workers start with ``celery -A wsgi:celery worker``. The broker is Redis in
production and a SQLite file in the embedded default (see config.py).
"""

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for this Flask app and make it the default."""

    class FlaskTask(Task):
        """A task that runs inside the Flask app context."""

        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
