"""The Redis cache backend the app uses: an unreachable Redis is a cache miss.

The cache only spares the database a few reads (a petition's count and facts,
kept for seconds), so when Redis is down a page should read the database, not
fail. Flask-Caching's own backend raises ``redis.ConnectionError`` instead;
``CACHE_TYPE=RedisCache`` is mapped to this class (see config.py).
"""

import logging

from flask import current_app
from flask_caching.backends.rediscache import RedisCache as FlaskCachingRedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RedisCache(FlaskCachingRedisCache):
    """Flask-Caching's RedisCache, answering "not cached" while Redis is down."""

    def get(self, key):
        """The cached value, or None if absent or Redis is unreachable."""
        try:
            return super().get(key)
        except RedisError as error:
            _warn(error)
            return None

    def get_many(self, *keys):
        """The cached values (None for each while Redis is unreachable)."""
        try:
            return super().get_many(*keys)
        except RedisError as error:
            _warn(error)
            return [None] * len(keys)

    def has(self, key):
        """Whether the key is cached (False while Redis is unreachable)."""
        try:
            return super().has(key)
        except RedisError as error:
            _warn(error)
            return False

    def set(self, key, value, timeout=None):
        """Cache a value; False if Redis is unreachable."""
        try:
            return super().set(key, value, timeout)
        except RedisError as error:
            _warn(error)
            return False

    def add(self, key, value, timeout=None):
        """Cache a value unless present; False if Redis is unreachable."""
        try:
            return super().add(key, value, timeout)
        except RedisError as error:
            _warn(error)
            return False

    def set_many(self, mapping, timeout=None):
        """Cache several values; none are reported set if Redis is unreachable."""
        try:
            return super().set_many(mapping, timeout)
        except RedisError as error:
            _warn(error)
            return []

    def delete(self, key):
        """Drop a cached value; False if Redis is unreachable.

        Values are kept only for seconds, so a missed delete is stale briefly.
        """
        try:
            return super().delete(key)
        except RedisError as error:
            _warn(error)
            return False

    def delete_many(self, *keys):
        """Drop cached values; none are reported dropped if Redis is unreachable."""
        try:
            return super().delete_many(*keys)
        except RedisError as error:
            _warn(error)
            return []


def _warn(error: RedisError) -> None:
    log.warning("Cache unreachable (%s); reading the database instead.", error)


def remember(key: str, compute):
    """A value from the cache, else computed and kept for COUNT_CACHE_SECONDS.

    None is never kept (a missing row is read again). Whoever changes what a
    key holds deletes it; the short lifetime bounds staleness where a delete
    cannot reach (another process's SimpleCache, Redis down).
    """
    from campaign.extensions import cache  # extensions imports nothing of ours

    value = cache.get(key)
    if value is None:
        value = compute()
        if value is not None:
            timeout = current_app.config["COUNT_CACHE_SECONDS"]
            cache.set(key, value, timeout=timeout)
    return value
