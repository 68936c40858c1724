"""Reachability checks for the database and the task queue."""

import sqlalchemy as sa
from flask import current_app

from campaign.extensions import db
from campaign.tasks import celery_app


def database_ok() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return False
    return True


def queue_ok() -> bool:
    """Whether the Celery broker accepts a connection."""
    celery = celery_app(current_app)
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True
