"""Signature exports: which rows and columns, on top of the shared CSV stream.

The same export feeds the CSV download and the CLI command.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from campaign.csvstream import CsvExport, describe, export_cells, literal
from campaign.extensions import db
from campaign.models import utc_midnight
from campaign.petition.models import Petition, Signature, SignatureState

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


def selection(petition: Petition, filters: Filters) -> sa.Select:
    """The export's query, oldest signature first.

    Runs of ordinary cells come as pieces of CSV built by the database, the
    encrypted name, email and comment as stored (see csvstream).
    """
    cells = export_cells(COLUMNS)
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


class SignatureExport(CsvExport):
    """A petition's signatures matching some filters, as streamed CSV."""

    action = "export-signatures"

    def __init__(self, petition: Petition, filters: Filters, organiser, via: str):
        """Prepare the export; nothing is read until iteration starts."""
        super().__init__(filters, organiser, via)
        self.petition = petition

    def header(self) -> list[str]:
        """The CSV's column names."""
        return list(COLUMNS)

    def columns(self) -> dict:
        """The CSV's columns by header name."""
        return COLUMNS

    def sql(self) -> str:
        """The rows to write, as one SQL query (see ``selection``)."""
        return literal_sql(self.petition, self.filters)

    def detail(self) -> str:
        """What was exported, for the audit log."""
        return f"{self.petition.slug} via {self.via}: {self.filters.describe()}"
