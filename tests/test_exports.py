"""Signature exports: correct, filtered, safe in spreadsheets, streamed, audited."""

import csv
import io
import tracemalloc
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.petition.exports import Filters, SignatureExport
from campaign.petition.models import Petition, Signature, SignatureState
from campaign.petition.services import get_petition
from tests.helpers import PG_URL, SLUG, needs_postgres
from tests.test_organiser import add_organiser, log_in

URL = f"/organiser/petitions/{SLUG}/signatures.csv"


def add_signatures(app, *rows: dict) -> None:
    """Store signatures directly, as years of signing would have."""
    with app.app_context():
        petition_id = db.session.scalar(sa.select(Petition.id))
        base = {
            "petition_id": petition_id,
            "name": "Ada Lovelace",
            "country": "GB",
            "state": SignatureState.VALIDATED,
            "created_at": datetime(2026, 11, 1, 12, tzinfo=UTC),
            "updated_at": datetime(2026, 11, 1, 12, tzinfo=UTC),
            "validated_at": datetime(2026, 11, 1, 13, tzinfo=UTC),
            "join_list": False,
            "public": False,
            "locale": "en",
        }
        records = []
        for number, row in enumerate(rows):
            email = row.get("email", f"person{number}@example.org")
            records.append(
                {**base, "email": email, "email_hash": email_hash(email), **row}
            )
        db.session.execute(sa.insert(Signature), records)
        db.session.commit()


def read_csv(response) -> list[dict]:
    """The rows of a CSV download, by column name."""
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def staff(app, client):
    """A client signed in as a staff organiser."""
    add_organiser(app)
    log_in(client)
    return client


def test_download_is_a_streamed_csv_with_a_header(app, staff):
    add_signatures(app, {"name": "Zoë Ahmadi", "comment": "Für alle, 私たち"})
    response = staff.get(URL)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{SLUG}-signatures.csv"'
    )
    assert "no-store" in response.headers["Cache-Control"]
    [row] = read_csv(response)
    assert row == {
        "signed_at": "2026-11-01 12:00:00",
        "confirmed_at": "2026-11-01 13:00:00",
        "state": "validated",
        "name": "Zoë Ahmadi",
        "email": "person0@example.org",
        "country": "GB",
        "comment": "Für alle, 私たち",
        "joined_list": "no",
        "public": "no",
        "client_key": "",
    }


def test_quotes_commas_and_line_breaks_survive(app, staff):
    comment = 'He said "no, never",\nthen "left"\r\nfor good'
    add_signatures(app, {"name": 'Ada "the" Lovelace, Jr.', "comment": comment})
    [row] = read_csv(staff.get(URL))
    assert row["name"] == 'Ada "the" Lovelace, Jr.'
    assert row["comment"] == comment


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_could_run_as_formulas_are_made_inert(app, staff, start):
    add_signatures(app, {"name": f"{start}HYPERLINK(1)", "comment": f"{start}cmd"})
    [row] = read_csv(staff.get(URL))
    assert row["name"] == f"'{start}HYPERLINK(1)"
    assert row["comment"] == f"'{start}cmd"


def test_filters(app, staff):
    add_signatures(
        app,
        {"email": "early@example.org", "created_at": datetime(2026, 1, 5, tzinfo=UTC)},
        {"email": "fr@example.org", "country": "FR", "join_list": True},
        {"email": "pending@example.org", "state": SignatureState.PENDING},
    )

    def emails(query: str) -> list[str]:
        return [row["email"] for row in read_csv(staff.get(f"{URL}?{query}"))]

    assert len(emails("")) == 3
    assert emails("state=pending") == ["pending@example.org"]
    assert emails("country=fr") == ["fr@example.org"]
    assert emails("opted_in=y") == ["fr@example.org"]
    assert emails("until=2026-01-05") == ["early@example.org"]
    assert "early@example.org" not in emails("since=2026-01-06")


@pytest.mark.parametrize(
    "query", ["state=nonsense", "since=yesterday", "country=XX", "until=2026-13-01"]
)
def test_bad_filters_get_a_400_naming_the_field(staff, query):
    response = staff.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_json()["errors"]


def test_anonymous_export_gets_401_and_no_data(app, client):
    add_signatures(app, {})
    response = client.get(URL)
    assert response.status_code == 401
    assert b"example.org" not in response.data


def test_every_export_is_audited(app, staff):
    add_signatures(app, {}, {}, {})
    staff.get(f"{URL}?state=validated").get_data()
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.action == "export-signatures"
        assert entry.rows == 3
        assert entry.organiser.email == "org@example.org"
        assert "state=validated" in entry.detail


def peak_memory_of_export(app) -> tuple[int, int]:
    """Export every signature; return (CSV bytes, peak traced memory)."""
    with app.app_context():
        export = SignatureExport(get_petition(SLUG), Filters(), None, "test")
        tracemalloc.start()
        size = sum(len(chunk) for chunk in export)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return size, peak


def test_exports_stream_in_constant_memory(app):
    add_signatures(app, *({"comment": "x" * 100} for _ in range(10_000)))
    small_size, small_peak = peak_memory_of_export(app)
    more = (
        {"comment": "x" * 100, "email": f"more{n}@example.org"} for n in range(30_000)
    )
    add_signatures(app, *more)
    size, peak = peak_memory_of_export(app)
    assert size > 3.9 * small_size  # four times the rows ...
    assert peak < 1.3 * small_peak  # ... in the same memory


def test_cli_export_writes_the_file_and_audits(app, runner, tmp_path):
    add_signatures(app, {"country": "AF"}, {"country": "FR"})
    output = tmp_path / "out.csv"
    result = runner.invoke(
        args=[
            "campaign",
            "export-signatures",
            SLUG,
            "-o",
            str(output),
            "--country",
            "af",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "1 signatures written" in result.output
    with output.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["country"] for row in rows] == ["AF"]
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.organiser_id is None and "via cli" in entry.detail


def test_an_export_left_at_its_last_chunk_leaves_the_connection_clean(app):
    # Found by the fuzz test: a small export is one chunk; a client that left
    # right then used to leave COPY's results unread on a pooled connection.
    add_signatures(app, {"comment": "short"})
    with app.app_context():
        export = SignatureExport(get_petition(SLUG), Filters(), None, "test")
        chunks = iter(export)
        while b"short" not in next(chunks):  # up to the chunk with the row
            pass
        chunks.close()
        assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 1
        assert db.session.scalars(sa.select(AuditEntry)).one().rows == 1


def test_an_abandoned_export_is_audited_and_leaves_the_database_usable(app):
    add_signatures(app, *({"comment": "x" * 100} for _ in range(5_000)))
    with app.app_context():
        export = SignatureExport(get_petition(SLUG), Filters(), None, "test")
        chunks = iter(export)
        next(chunks), next(chunks)  # the client reads a little, then goes away
        chunks.close()
        assert 0 < export.written < 5_000
        assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 5_000
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.rows == export.written


def test_the_export_holds_the_plaintext_the_database_does_not(app, staff):
    secret = {"name": "Parwana Noori", "email": "parwana@example.org"}
    add_signatures(app, {**secret, "comment": "=only in the export"})
    [row] = read_csv(staff.get(URL))
    assert row["name"] == "Parwana Noori" and row["email"] == "parwana@example.org"
    assert row["comment"] == "'=only in the export"
    with app.app_context():
        raw = [Signature.name, Signature.email, Signature.comment]
        stored = db.session.execute(
            sa.select(*(sa.type_coerce(c, sa.LargeBinary) for c in raw))
        ).one()
    plains = [*secret.values(), "=only in the export"]
    for value, plain in zip(stored, plains, strict=True):
        assert isinstance(value, bytes) and plain.encode() not in value


@needs_postgres
@pytest.mark.parametrize("database_url", [PG_URL], ids=["postgresql"])
@pytest.mark.parametrize("chunked", [True, False], ids=["libpq-17", "older-libpq"])
def test_postgresql_rows_arrive_whole_in_chunks_or_by_fetch(
    app, staff, monkeypatch, chunked
):
    # libpq 17 streams the rows in chunks; an older one (a system libpq) goes
    # through a server-side cursor. Both give every row, and both stop cleanly.
    if not chunked:
        monkeypatch.setattr("campaign.csvstream.CHUNKED_LIBPQ", 10**9)
    add_signatures(app, *({"comment": f"row {n}"} for n in range(9_000)))
    rows = read_csv(staff.get(URL))
    assert [row["comment"] for row in rows] == [f"row {n}" for n in range(9_000)]
    with app.app_context():
        export = SignatureExport(get_petition(SLUG), Filters(), None, "test")
        chunks = iter(export)
        next(chunks), next(chunks)
        chunks.close()
        assert 0 < export.written < 9_000
        assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 9_000
