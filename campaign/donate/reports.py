"""Donations for organisers: totals, a chart, a filtered list, a CSV export.

A donation counts as received once Stripe has confirmed it (``paid_at`` is
set), including those refunded later; refunds are totalled on their own.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from campaign.csvstream import CsvExport, describe, export_cells, literal
from campaign.donate.models import (
    Donation,
    DonationKind,
    DonationState,
    GiftState,
    MonthlyGift,
)
from campaign.donate.services import ZERO_DECIMAL, currency, minor_per_major
from campaign.extensions import db
from campaign.models import utc_midnight
from campaign.timeseries import CHART_DAYS, per_bucket

LIST_LIMIT = 200


@dataclass(frozen=True)
class DonationFilters:
    """Which donations the list and the export take."""

    state: DonationState | None = None
    kind: DonationKind | None = None
    since: date | None = None
    until: date | None = None

    def conditions(self) -> list:
        """SQL conditions for these filters (dates are when the row was made)."""
        found = []
        if self.state:
            found.append(Donation.state == self.state)
        if self.kind:
            found.append(Donation.kind == self.kind)
        if self.since:
            found.append(Donation.created_at >= utc_midnight(self.since))
        if self.until:
            found.append(Donation.created_at < utc_midnight(self.until, 1))
        return found

    def describe(self) -> str:
        """A line for the audit log."""
        return describe(self)


@dataclass
class Totals:
    """Money received in one currency, in minor units."""

    currency: str
    one_off: int = 0
    monthly: int = 0
    refunded: int = 0
    gifts: int = 0  # confirmed payments
    active_monthly: int = 0  # monthly gifts still running
    monthly_pledged: int = 0  # what those bring in each month

    @property
    def net(self) -> int:
        """Received less refunded."""
        return self.one_off + self.monthly - self.refunded


def totals() -> list[Totals]:
    """Totals per currency (the configured one first, even when empty)."""
    found: dict[str, Totals] = {currency(): Totals(currency())}
    received = db.session.execute(
        sa.select(
            Donation.currency,
            Donation.kind,
            sa.func.sum(Donation.amount),
            sa.func.sum(Donation.refunded_amount),
            sa.func.count(),
        )
        .where(Donation.paid_at.is_not(None))
        .group_by(Donation.currency, Donation.kind)
    )
    for code, kind, amount, refunded, count in received:
        row = found.setdefault(code, Totals(code))
        if kind is DonationKind.MONTHLY:
            row.monthly += amount
        else:
            row.one_off += amount
        row.refunded += refunded
        row.gifts += count
    active = db.session.execute(
        sa.select(
            MonthlyGift.currency, sa.func.count(), sa.func.sum(MonthlyGift.amount)
        )
        .where(MonthlyGift.state == GiftState.ACTIVE)
        .group_by(MonthlyGift.currency)
    )
    for code, count, amount in active:
        row = found.setdefault(code, Totals(code))
        row.active_monthly, row.monthly_pledged = count, amount
    return list(found.values())


def received_per_day(days: int = CHART_DAYS) -> list:
    """Money received each day (configured currency, whole units), for the chart."""
    code = currency()
    series = per_bucket(
        Donation.paid_at,
        "day",
        days,
        Donation.currency == code,
        value=sa.func.sum(Donation.amount),
    )
    per = minor_per_major(code)
    return [(start, round(amount / per)) for start, amount in series]


def latest(filters: DonationFilters, limit: int = LIST_LIMIT) -> list[Donation]:
    """The newest donations matching the filters."""
    return list(
        db.session.scalars(
            sa.select(Donation)
            .where(*filters.conditions())
            .order_by(Donation.id.desc())
            .limit(limit)
        )
    )


def major(column, dialect_name: str):
    """An amount column as text in whole units with two decimals ("25.00")."""
    divisor = sa.case((Donation.currency.in_(sorted(ZERO_DECIMAL)), 1), else_=100)
    value = column * 1.0 / divisor
    if dialect_name == "postgresql":
        return sa.func.to_char(value, "FM999999999990.00")
    return sa.func.printf("%.2f", value)


def columns(dialect_name: str) -> dict:
    """The export's columns, by name, as SQL expressions."""
    return {
        "created_at": Donation.created_at,
        "paid_at": Donation.paid_at,
        "kind": Donation.kind,
        "state": Donation.state,
        "amount": major(Donation.amount, dialect_name),
        "refunded": major(Donation.refunded_amount, dialect_name),
        "currency": Donation.currency,
        "name": Donation.name,
        "email": Donation.email,
        "checkout_session": Donation.checkout_session_id,
        "payment_intent": Donation.payment_intent_id,
        "invoice": Donation.invoice_id,
        "subscription": Donation.subscription_id,
    }


class DonationExport(CsvExport):
    """The donations matching some filters, as streamed, escaped, audited CSV."""

    action = "export-donations"

    def header(self) -> list[str]:
        """The CSV's column names."""
        return list(columns("sqlite"))

    def columns(self) -> dict:
        """The CSV's columns by header name, for this database."""
        return columns(db.engine.dialect.name)

    def sql(self) -> str:
        """Formula-safe cells and the encrypted name and email, oldest first."""
        query = (
            sa.select(*export_cells(self.columns()))
            .where(*self.filters.conditions())
            .order_by(Donation.id)
        )
        return literal(query)

    def detail(self) -> str:
        """What was exported, for the audit log."""
        return f"donations via {self.via}: {self.filters.describe()}"
