"""Reachability checks for the database, the task queue and Redis."""

import redis
import sqlalchemy as sa
from flask import current_app

from campaign.config import REDIS_TIMEOUTS
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


def redis_ok(url: str) -> bool:
    """Whether the Redis at ``url`` (rate limits, cache, maybe the broker) answers."""
    client = redis.Redis.from_url(url, **REDIS_TIMEOUTS)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
