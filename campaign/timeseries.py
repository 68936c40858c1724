"""Time series for organiser charts: a count or sum per day or hour, in UTC."""

from datetime import timedelta

import sqlalchemy as sa

from campaign.extensions import db
from campaign.models import now_utc

CHART_DAYS = 30
CHART_HOURS = 48

UNITS = {
    # unit: (step, PostgreSQL to_char format, SQLite strftime format)
    "day": (timedelta(days=1), "YYYY-MM-DD", "%Y-%m-%d"),
    "hour": (timedelta(hours=1), "YYYY-MM-DD HH24", "%Y-%m-%d %H"),
}


def per_bucket(timestamp, unit: str, buckets: int, *where, value=None):
    """``value`` (default: a count) per day or hour of ``timestamp``, latest last.

    Each of the last ``buckets`` days or hours (UTC) appears, empty ones as 0.
    """
    step, pg_format, sqlite_format = UNITS[unit]
    now = now_utc().replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        now = now.replace(hour=0)
    first = now - step * (buckets - 1)
    if db.engine.dialect.name == "postgresql":  # UTC buckets, whatever TimeZone
        key = sa.func.to_char(sa.func.timezone("UTC", timestamp), pg_format)
    else:
        key = sa.func.strftime(sqlite_format, timestamp)
    value = sa.func.count() if value is None else value
    counts = dict(
        db.session.execute(
            sa.select(key, value).where(*where, timestamp >= first).group_by(key)
        ).all()
    )
    starts = [first + step * i for i in range(buckets)]
    return [(start, counts.get(start.strftime(sqlite_format), 0)) for start in starts]
