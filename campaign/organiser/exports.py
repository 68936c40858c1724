"""Signature exports: filtered, streamed in constant memory, spreadsheet-safe.

The same generator feeds the CSV download and the CLI command; every export is
written to the audit log with the number of rows that actually went out.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date

import sqlalchemy as sa

from campaign.extensions import db
from campaign.models import UTCDateTime, utc_midnight
from campaign.organiser.services import record
from campaign.petition.models import Petition, Signature, SignatureState

# What a cell may not start with, lest a spreadsheet run it as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = {
    "signed_at": Signature.created_at,
    "confirmed_at": Signature.validated_at,
    "state": Signature.state,
    "name": Signature.name,
    "email": Signature.email,
    "country": Signature.country,
    "comment": Signature.comment,
    "joined_list": Signature.join_list,
    "public": Signature.public,
    "client_key": Signature.ip_key,
}
BATCH = 2000
CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class Filters:
    """Which signatures an export takes."""

    state: SignatureState | None = None
    since: date | None = None
    until: date | None = None
    country: str | None = None
    opted_in: bool = False

    def describe(self) -> str:
        """A line for the audit log."""
        return describe(self)


def describe(criteria) -> str:
    """The criteria that are set, as ``name=value`` words, for the audit log."""
    words = [
        f"{name}={getattr(value, 'value', value)}"
        for name, value in asdict(criteria).items()
        if value
    ]
    return " ".join(words) or "all"


def signed_between(since: date | None, until: date | None) -> list:
    """Conditions for signatures made on or after ``since``, on or before ``until``."""
    found = []
    if since:
        found.append(Signature.created_at >= utc_midnight(since))
    if until:
        found.append(Signature.created_at < utc_midnight(until, 1))
    return found


def conditions(petition: Petition, filters: Filters) -> list:
    """Which rows an export takes, as SQL conditions."""
    found = [Signature.petition_id == petition.id]
    if filters.state:
        found.append(Signature.state == filters.state)
    found += signed_between(filters.since, filters.until)
    if filters.country:
        found.append(Signature.country == filters.country)
    if filters.opted_in:
        found.append(Signature.join_list.is_(True))
    return found


def as_cell(column, dialect_name: str):
    """A column as its CSV cell, computed by the database.

    Formatting in SQL keeps Python's per-row work to writing the line:
    timestamps as UTC text, booleans as yes/no, and text that starts like a
    formula prefixed with an apostrophe.
    """
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if dialect_name == "postgresql":
            utc = sa.func.timezone("UTC", column)
            text = sa.func.to_char(utc, "YYYY-MM-DD HH24:MI:SS")
        else:
            text = sa.func.strftime("%Y-%m-%d %H:%M:%S", column)
    elif isinstance(kind, sa.Boolean):
        text = sa.case((column.is_(True), "yes"), else_="no")
    else:
        text = sa.type_coerce(column, sa.String)
        if not isinstance(kind, sa.Enum):
            risky = sa.func.substr(text, 1, 1).in_(FORMULA_START)
            text = sa.case((risky, sa.literal("'") + text), else_=text)
    return sa.func.coalesce(text, "")


def selection(petition: Petition, filters: Filters) -> sa.Select:
    """The export's query: every cell as text, oldest signature first."""
    dialect_name = db.engine.dialect.name
    cells = [
        as_cell(column, dialect_name).label(name) for name, column in COLUMNS.items()
    ]
    return (
        sa.select(*cells).where(*conditions(petition, filters)).order_by(Signature.id)
    )


def count_rows(petition: Petition, filters: Filters) -> int:
    """How many rows an export will have (for progress bars)."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(*conditions(petition, filters))
    )


def literal_sql(petition: Petition, filters: Filters) -> str:
    """The export's query as plain SQL, its values rendered as literals."""
    return literal(selection(petition, filters))


def literal(query: sa.Select) -> str:
    """A query as plain SQL, its values rendered as literals.

    Safe because every value is validated (ids, dates, enum values, country
    codes) and SQLAlchemy quotes them; it lets the rows come straight from the
    driver's cursor, without per-row work in SQLAlchemy.
    """
    return str(
        query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    )


def driver_cursor():
    """A cursor of the database driver, inside the session's transaction."""
    return db.session.connection().connection.dbapi_connection.cursor()


class CsvExport:
    """An export in progress: iterate it for CSV bytes; ``written`` counts rows.

    Whatever ends the iteration (the last row, an error, a client that goes
    away), the audit log records how many rows went out. Subclasses export
    other tables by giving their own ``header``, ``sql`` and ``detail``.
    """

    action = "export-signatures"

    def __init__(self, petition: Petition, filters: Filters, organiser, via: str):
        """Prepare the export; nothing is read until iteration starts."""
        self.petition, self.filters = petition, filters
        self.organiser, self.via = organiser, via
        self.written = 0

    def __iter__(self) -> Iterator[bytes]:
        """UTF-8 CSV with a header row, a batch of rows per chunk."""
        try:
            if db.engine.dialect.name == "postgresql":
                yield from self._copy()
            else:
                yield from self._write()
        finally:
            self._audit()

    def _write(self) -> Iterator[bytes]:
        """Write the rows with the csv module, a batch at a time."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.header())
        cursor = driver_cursor()
        cursor.execute(self.sql())
        while batch := cursor.fetchmany(BATCH):
            writer.writerows(batch)
            self.written += len(batch)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue().encode()

    def _copy(self) -> Iterator[bytes]:
        """Let PostgreSQL write the CSV (COPY … TO STDOUT) and pass it through.

        While it runs, ``written`` counts lines; at the end it is PostgreSQL's
        own row count.
        """
        query = self.sql()
        cursor = driver_cursor()
        chunk = bytearray()
        # libpq hands over one row at a time: pass them on in larger chunks.
        with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for data in copy:
                chunk += data
                if len(chunk) >= CHUNK_BYTES:
                    self.written += chunk.count(b"\n")
                    yield bytes(chunk)
                    chunk.clear()
        yield bytes(chunk)
        self.written = cursor.rowcount

    def header(self) -> list[str]:
        """The CSV's column names."""
        return list(COLUMNS)

    def sql(self) -> str:
        """The rows to write, as one SQL query of text cells."""
        return literal_sql(self.petition, self.filters)

    def detail(self) -> str:
        """What was exported, for the audit log."""
        return f"{self.petition.slug} via {self.via}: {self.filters.describe()}"

    def _audit(self) -> None:
        """Write the audit entry, after ending the streaming read."""
        db.session.rollback()
        record(self.organiser, self.action, self.detail(), rows=self.written)
        db.session.commit()
