"""The list as organisers see it: find subscribers, count them, export them.

``segment_conditions`` is the one definition of a segment (language,
country, consent source, petition signed); the subscribers page, its export
and the broadcasts' audiences (mailing/broadcasts.py) all use it.
"""

from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from campaign.csvstream import CsvExport, describe, export_cells, literal
from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.mailing.models import Consent, Subscriber, SubscriberState
from campaign.petition.models import Signature, SignatureState

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    """Which subscribers a page or an export shows (None or "": any)."""

    search: str = ""  # a whole address (found by its keyed hash)
    state: SubscriberState | None = None
    source: str | None = None
    locale: str | None = None
    country: str | None = None
    petition_id: int | None = None

    def describe(self) -> str:
        """A line for the audit log: the search is only said to be there,
        since the words searched for may be someone's address."""
        shown = describe(replace(self, search=""))
        return f"search=yes {shown}" if self.search else shown


def segment_conditions(
    locale: str | None = None,
    country: str | None = None,
    source: str | None = None,
    petition_id: int | None = None,
) -> list:
    """Conditions on Subscriber for a segment: each criterion left None is any."""
    found = []
    if locale:
        found.append(Subscriber.locale == locale)
    if country:
        found.append(Subscriber.country == country)
    if source:
        found.append(
            sa.exists().where(
                Consent.subscriber_id == Subscriber.id, Consent.source == source
            )
        )
    if petition_id:
        found.append(
            sa.exists().where(
                Signature.petition_id == petition_id,
                Signature.email_hash == Subscriber.email_key,
                Signature.state == SignatureState.VALIDATED,
            )
        )
    return found


def search_condition(text: str):
    """The subscriber with this whole address, in any of its forms.

    Addresses are stored encrypted, so only an exact address can be found
    (by its keyed hash, ``email_key``); a part of one matches nothing (the
    form refuses it before it gets here).
    """
    text = text.strip()
    if "@" not in text.strip("@"):
        return sa.false()
    return Subscriber.email_key == email_hash(text)


def conditions(filters: Filters, with_state: bool = True) -> list:
    """Which subscribers match, as SQL conditions."""
    found = segment_conditions(
        filters.locale, filters.country, filters.source, filters.petition_id
    )
    if filters.search:
        found.append(search_condition(filters.search))
    if with_state and filters.state:
        found.append(Subscriber.state == filters.state)
    return found


def counts(filters: Filters) -> dict[SubscriberState, int]:
    """How many match in each state (the state filter itself left aside)."""
    rows = db.session.execute(
        sa.select(Subscriber.state, sa.func.count())
        .where(*conditions(filters, with_state=False))
        .group_by(Subscriber.state)
    ).all()
    found = dict.fromkeys(SubscriberState, 0)
    found.update(dict(rows))
    return found


def page(filters: Filters, before: int | None = None) -> tuple[list, int | None]:
    """One page of matches, newest first, and the id the next page starts
    before (None on the last page): keyset pagination on the primary key."""
    query = (
        sa.select(Subscriber)
        .where(*conditions(filters))
        .options(selectinload(Subscriber.consents))
        .order_by(Subscriber.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if before:
        query = query.where(Subscriber.id < before)
    rows = list(db.session.scalars(query))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, rows[-1].id if more else None


def sources() -> list[str]:
    """Every consent source recorded so far, for the filters' choices."""
    return list(
        db.session.scalars(
            sa.select(Consent.source).distinct().order_by(Consent.source)
        )
    )


FIRST_SOURCE = (
    sa.select(Consent.source)
    .where(Consent.subscriber_id == Subscriber.id)
    .order_by(Consent.id)
    .limit(1)
    .correlate(Subscriber)
    .scalar_subquery()
)
COLUMNS = {
    "email": Subscriber.email,
    "name": Subscriber.name,
    "state": Subscriber.state,
    "language": Subscriber.locale,
    "country": Subscriber.country,
    "joined_at": Subscriber.created_at,
    "confirmed_at": Subscriber.confirmed_at,
    "first_source": FIRST_SOURCE,
}


def selection(filters: Filters) -> sa.Select:
    """The export's query, oldest first: pieces of CSV built by the database
    and the encrypted email and name as stored (see csvstream)."""
    cells = export_cells(COLUMNS)
    return (
        sa.select(*cells)
        .select_from(Subscriber)
        .where(*conditions(filters))
        .order_by(Subscriber.id)
    )


class SubscriberExport(CsvExport):
    """The subscribers matching some filters, as streamed CSV."""

    action = "export-subscribers"

    def header(self) -> list[str]:
        """The CSV's column names."""
        return list(COLUMNS)

    def columns(self) -> dict:
        """The CSV's columns by header name."""
        return COLUMNS

    def sql(self) -> str:
        """The rows to write, as one SQL query."""
        return literal(selection(self.filters))

    def detail(self) -> str:
        """What was exported, for the audit log (never whose address)."""
        return f"subscribers via {self.via}: {self.filters.describe()}"
