"""CSV exports of any table: streamed in constant memory, spreadsheet-safe, audited.

A line is made of pieces joined by commas: runs of ordinary cells, which the
database formats and joins itself (``csv_segment``: one bytes value a run),
and encrypted cells (``Encrypted`` columns), which only Python can open: their
raw ciphertext is fetched in batches from the driver's cursor (a server-side
cursor in binary mode on PostgreSQL), decrypted a column of a batch at a time
by the key ring's fast path and quoted and formula-escaped as bytes
(``csv_cells``). Every export is written to the audit log with the number of
rows that actually went out. Features subclass ``CsvExport`` with their own
columns and query (petition/exports.py, donate/reports.py,
mailing/subscribers.py).
"""

import os
from collections.abc import Iterator
from dataclasses import asdict
from itertools import islice

import sqlalchemy as sa

from campaign.audit import record
from campaign.encryption import Encrypted, key_ring
from campaign.extensions import db
from campaign.models import UTCDateTime

# What a cell may not start with, lest a spreadsheet run it as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RISKY_BYTES = frozenset(start.encode() for start in FORMULA_START)
BATCH = 4096
# The first libpq that sends a query's rows in chunks (psycopg's stream(size=)).
CHUNKED_LIBPQ = 170000
# Benchmarks only: "0" leaves encrypted cells unopened (their hex instead), to
# measure what decryption costs. Never set in a deployment.
DECRYPT = os.environ.get("CAMPAIGN_EXPORT_DECRYPT", "1") != "0"


def describe(criteria) -> str:
    """The criteria that are set, as ``name=value`` words, for the audit log."""
    words = [
        f"{name}={getattr(value, 'value', value)}"
        for name, value in asdict(criteria).items()
        if value
    ]
    return " ".join(words) or "all"


def as_cell(column, dialect_name: str):
    """A column as its CSV cell, computed by the database ("" for NULL)."""
    return sa.func.coalesce(as_text(column, dialect_name), "")


def as_text(column, dialect_name: str):
    """A column as the text of its CSV cell, computed by the database.

    Formatting in SQL keeps Python's per-row work to writing the line:
    timestamps as UTC text, booleans as yes/no, and text that starts like a
    formula prefixed with an apostrophe. The functions are the cheapest that
    do it (measured): a cast rather than to_char, the first character's code
    rather than a substring.
    """
    kind = column.type
    postgresql = dialect_name == "postgresql"
    if isinstance(kind, UTCDateTime):
        if postgresql:  # ISO text (the export sets DateStyle), whole seconds
            utc = sa.func.timezone("UTC", column)
            text = sa.cast(sa.func.date_trunc("second", utc), sa.Text)
        else:  # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) in SQLite
            text = sa.func.substr(column, 1, 19)
    elif isinstance(kind, sa.Boolean):
        text = sa.case((column.is_(True), "yes"), else_="no")
    else:
        text = sa.type_coerce(column, sa.String)
        if not isinstance(kind, sa.Enum):
            first = sa.func.ascii(text) if postgresql else sa.func.unicode(text)
            risky = first.in_([ord(start) for start in FORMULA_START])
            text = sa.case((risky, sa.literal("'") + text), else_=text)
    return text


def is_free_text(column) -> bool:
    """Whether a column holds text a person typed (not a time, flag or state)."""
    return not isinstance(column.type, UTCDateTime | sa.Boolean | sa.Enum)


def is_encrypted(column) -> bool:
    """Whether a column is stored encrypted (only Python can read it)."""
    return isinstance(getattr(column, "type", None), Encrypted)


def csv_segment(columns, dialect_name: str) -> sa.ColumnElement:
    """A run of ordinary cells as one piece of a CSV line, UTF-8 bytes.

    Built by the database: SQLite with one printf() (the cheapest there,
    measured; a NULL prints as an empty cell), PostgreSQL with ``||`` and
    ``convert_to``. Free-text cells are always quoted, their quotes doubled,
    which every CSV reader accepts; the other cells never hold a comma, quote
    or line break.
    """
    if dialect_name == "sqlite":
        template, cells = [], []
        for column in columns:
            cell = as_text(column, "sqlite")
            if is_free_text(column):
                template.append('"%s"')
                cell = sa.func.replace(cell, '"', '""')
            else:
                template.append("%s")
            cells.append(cell)
        line = sa.func.printf(",".join(template), *cells)
        return sa.cast(line, sa.LargeBinary)
    parts = []
    for column in columns:
        cell = as_cell(column, dialect_name)
        if is_free_text(column):
            quoted = sa.func.replace(cell, '"', '""')
            cell = sa.literal('"').op("||")(quoted).op("||")(sa.literal('"'))
        parts.append(cell)
    line = parts[0]
    for part in parts[1:]:
        line = line.op("||")(sa.literal(",")).op("||")(part)
    return sa.func.convert_to(line, "UTF8")


def export_cells(columns: dict) -> list:
    """An export's SELECT list, in CSV order: each run of ordinary columns as
    one ``csv_segment``, each encrypted column as its stored bytes."""
    dialect_name = db.engine.dialect.name
    found, run = [], []
    for column in columns.values():
        if is_encrypted(column):
            if run:
                found.append(csv_segment(run, dialect_name))
                run = []
            found.append(sa.type_coerce(column, sa.LargeBinary))
        else:
            run.append(column)
    if run:
        found.append(csv_segment(run, dialect_name))
    return found


def csv_cells(plaintexts: list) -> list[bytes]:
    """Decrypted texts (UTF-8 bytes, or None) as quoted CSV cells, any that
    starts like a formula prefixed with an apostrophe (as ``as_text`` does)."""
    risky = RISKY_BYTES
    return [
        b'""'
        if text is None
        else b"\"'" + text.replace(b'"', b'""') + b'"'
        if text[:1] in risky
        else b'"' + text.replace(b'"', b'""') + b'"'
        for text in plaintexts
    ]


def hex_cells(tokens: list) -> list[bytes]:
    """Encrypted cells left shut: their hex, for measuring decryption's cost."""
    return [b"" if token is None else token.hex().encode() for token in tokens]


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
    away), the audit log records how many rows went out. Subclasses give
    their ``action``, ``header``, ``columns``, ``sql`` and ``detail``; the
    query's SELECT list is ``export_cells(self.columns())``.
    """

    action = "export"

    def __init__(self, filters, organiser, via: str):
        """Prepare the export; nothing is read until iteration starts."""
        self.filters, self.organiser, self.via = filters, organiser, via
        self.written = 0

    def __iter__(self) -> Iterator[bytes]:
        """UTF-8 CSV with a header row, a batch of rows per chunk."""
        try:
            yield (",".join(self.header()) + "\n").encode()
            yield from self._lines()
        finally:
            self._audit()

    def _batches(self) -> Iterator[list]:
        """The export's rows from the driver, a list of up to BATCH at a time.

        On PostgreSQL the rows stream in binary mode (bytea arrives as the
        bytes themselves, no hex): with libpq 17 or later in chunks of BATCH
        rows, which the server keeps sending while this process writes the
        last chunk (measured on 1,000,000 rows: fetching took 2.2 s against
        3.3 s through a server-side cursor, which waits for each FETCH);
        with an older libpq through that server-side cursor, a batch a FETCH
        (taken through its row iterator, about 0.2 s per 1,000,000 rows more
        than fetchmany, for one loop on every path). Leaving early (a client
        gone) cancels the query.
        """
        connection = db.session.connection().connection.dbapi_connection
        if db.engine.dialect.name != "postgresql":
            cursor = connection.cursor()
            rows = cursor.execute(self.sql())
        else:
            from psycopg import pq  # here: only PostgreSQL's driver has it

            connection.execute("SET LOCAL DateStyle = 'ISO'")  # timestamps' text
            if pq.version() >= CHUNKED_LIBPQ:
                cursor = connection.cursor(binary=True)
                rows = cursor.stream(self.sql(), size=BATCH)
            else:
                cursor = connection.cursor(name="csv_export", binary=True)
                cursor.itersize = BATCH
                rows = cursor.execute(self.sql())
        try:
            while batch := list(islice(rows, BATCH)):
                yield batch
        finally:
            rows.close()  # a stream: cancels the query if not all read
            cursor.close()

    def _lines(self) -> Iterator[bytes]:
        """The data lines, one chunk a batch.

        A batch is turned into columns (``zip``), each encrypted column is
        opened and made cells in one pass, and the columns are zipped back
        into lines joined by commas: per row, Python does only C-level joins.
        """
        positions = [
            (index, column.type.context)
            for index, column in enumerate(self._select_columns())
            if column is not None
        ]
        ring = key_ring()
        for batch in self._batches():
            cells = list(zip(*batch, strict=True))
            for index, context in positions:
                if DECRYPT:
                    opened = ring.decrypt_all(cells[index], context)
                    cells[index] = csv_cells(opened)
                else:
                    cells[index] = hex_cells(cells[index])
            self.written += len(batch)
            yield b"\n".join(map(b",".join, zip(*cells, strict=True))) + b"\n"

    def _select_columns(self) -> list:
        """What each value of a fetched row is: an encrypted column, or a run."""
        found, run = [], False
        for column in self.columns().values():
            if is_encrypted(column):
                found.append(column)
                run = False
            elif not run:
                found.append(None)
                run = True
        return found

    def header(self) -> list[str]:
        """The CSV's column names."""
        raise NotImplementedError

    def columns(self) -> dict:
        """The CSV's columns by header name, as SQL expressions."""
        raise NotImplementedError

    def sql(self) -> str:
        """The rows to write: one SQL query selecting ``export_cells``."""
        raise NotImplementedError

    def detail(self) -> str:
        """What was exported, for the audit log."""
        raise NotImplementedError

    def _audit(self) -> None:
        """Write the audit entry, after ending the streaming read."""
        db.session.rollback()
        record(self.organiser, self.action, self.detail(), rows=self.written)
        db.session.commit()
