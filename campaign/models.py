"""Shared model pieces: UTC timestamps, portable enums and upserts."""

import enum
import sqlite3
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def now_utc() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def utc_midnight(day: date, plus_days: int = 0) -> datetime:
    """The start of a UTC day (``plus_days`` later)."""
    return datetime.combine(day + timedelta(days=plus_days), time(), tzinfo=UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no zone, so values come back naive there; this makes both
    databases hand the application the same aware datetimes.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store aware datetimes in UTC."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        """Read naive values back as UTC."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class TimestampMixin:
    """Created and updated times, set by the application in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )


def insert_for(target, dialect_name: str):
    """An INSERT that knows ON CONFLICT, for the named database.

    PostgreSQL and SQLite both support it; each dialect has its own construct.
    """
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(target)


def enum_column(enum_cls: type[enum.Enum]) -> sa.Enum:
    """Store an enum by its value, as a portable string column."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: write-ahead logging, so readers never wait on the writer and a
    commit costs no fsync of the main file (the embedded default's database)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
