"""CSV exports of any table: streamed in constant memory, spreadsheet-safe, audited.

Cells are formatted by the database (``as_cell``); on PostgreSQL the
database writes the CSV itself (``COPY … TO STDOUT``), on SQLite it builds
each line (``csv_line``). Every export is written to the audit log with the
number of rows that actually went out. Features subclass ``CsvExport`` with
their own columns and query (petition/exports.py, donate/reports.py).
"""

import csv
import io
import selectors
from collections.abc import Iterator
from dataclasses import asdict

import sqlalchemy as sa

from campaign.audit import record
from campaign.extensions import db
from campaign.models import UTCDateTime

# What a cell may not start with, lest a spreadsheet run it as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 4096
CHUNK_BYTES = 256 * 1024


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


def csv_line(columns) -> sa.ColumnElement:
    """A whole CSV line as UTF-8 bytes, built by SQLite.

    SQLite runs inside this process, so every Python object a cell costs is
    paid here; one bytes object a row is the cheapest to pass on, and one
    printf() the cheapest way for SQLite to build it (a NULL prints as an
    empty cell). Free-text cells are always quoted, their quotes doubled,
    which every CSV reader accepts; the other cells never hold a comma, quote
    or line break.
    """
    template, cells = [], []
    for column in columns:
        cell = as_text(column, "sqlite")
        if is_free_text(column):
            template.append('"%s"')
            cell = sa.func.replace(cell, '"', '""')
        else:
            template.append("%s")
        cells.append(cell)
    return sa.cast(sa.func.printf(",".join(template), *cells), sa.LargeBinary)


def export_cells(columns: dict) -> list:
    """An export's SELECT list: each column as a text cell named for its CSV
    header (PostgreSQL, whose COPY writes the CSV), or one whole CSV line
    (SQLite); formula-like cells escaped by the database either way."""
    dialect_name = db.engine.dialect.name
    if dialect_name == "postgresql":
        return [
            as_cell(column, dialect_name).label(name)
            for name, column in columns.items()
        ]
    return [csv_line(columns.values())]


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
    their ``action``, ``header``, ``sql`` and ``detail``.
    """

    action = "export"
    # On SQLite, does ``sql()`` return whole CSV lines (see csv_line)?
    lines_from_database = True

    def __init__(self, filters, organiser, via: str):
        """Prepare the export; nothing is read until iteration starts."""
        self.filters, self.organiser, self.via = filters, organiser, via
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
        """SQLite: pass on the lines the database builds, or write the rows."""
        cursor = driver_cursor()
        cursor.execute(self.sql())
        if self.lines_from_database:
            yield (",".join(self.header()) + "\n").encode()
            while batch := cursor.fetchmany(BATCH):
                self.written += len(batch)
                yield b"\n".join([line for (line,) in batch]) + b"\n"
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header())
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
        own row count. psycopg's ``Copy`` starts the COPY and, if the export
        is abandoned half-way, cancels it and leaves the connection clean.
        """
        query = self.sql()
        cursor = driver_cursor()
        cursor.execute("SET LOCAL DateStyle = 'ISO'")  # timestamps' text form
        with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)"):
            yield from self._copy_out(cursor.connection.pgconn)

    def _copy_out(self, pgconn) -> Iterator[bytes]:
        """A running COPY TO STDOUT's data, in 256 KiB chunks.

        libpq hands over one row at a time, and psycopg's ``Copy.read()`` spends
        about 2 µs of Python on each; asking libpq directly (without blocking,
        waiting on the socket only when no row is ready) costs a fraction.
        """
        import psycopg  # only PostgreSQL exports get here, where it is loaded

        chunk = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(pgconn.socket, selectors.EVENT_READ)
            while True:
                size, data = pgconn.get_copy_data(1)
                if size > 0:
                    chunk += data
                    if len(chunk) >= CHUNK_BYTES:
                        self.written += chunk.count(b"\n")
                        yield bytes(chunk)
                        chunk.clear()
                elif size == 0:  # no whole row yet: wait for the server
                    selector.select()
                    pgconn.consume_input()
                else:
                    break
        if size == -2:
            raise psycopg.OperationalError(pgconn.get_error_message())
        # COPY's own outcome (its row count), then the end of the results, read
        # before the last chunk goes out: a client that leaves at that point
        # must not leave results unread on a connection going back to the pool.
        result = pgconn.get_result()
        while pgconn.get_result() is not None:
            pass
        if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
            raise psycopg.DatabaseError(result.get_error_message())
        self.written = result.command_tuples
        yield bytes(chunk)

    def header(self) -> list[str]:
        """The CSV's column names."""
        raise NotImplementedError

    def sql(self) -> str:
        """The rows to write, as one SQL query of text cells (or CSV lines)."""
        raise NotImplementedError

    def detail(self) -> str:
        """What was exported, for the audit log."""
        raise NotImplementedError

    def _audit(self) -> None:
        """Write the audit entry, after ending the streaming read."""
        db.session.rollback()
        record(self.organiser, self.action, self.detail(), rows=self.written)
        db.session.commit()
