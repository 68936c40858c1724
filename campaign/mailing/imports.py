"""Importing subscribers from a CSV file: each row checked, refusals reported.

A row is refused (with its row number and the reason) for a bad address,
country or language, for repeating an earlier row, for an address already
on the list, and for an address on the suppression list, which an import
never puts back. The rest join in one commit: waiting to confirm, with the
double opt-in email due (campaign/outbox.py), or subscribed at once when the
organiser attests that they agreed before (the consent row says so).
"""

import csv
import io
import secrets
from dataclasses import dataclass, field
from types import SimpleNamespace

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from campaign.audit import record
from campaign.extensions import db
from campaign.forms import COUNTRY_CODES, plain_name, plain_text, valid_email
from campaign.localised import ORIGINAL
from campaign.mailing.models import (
    Consent,
    Subscriber,
    SubscriberNotice,
    SubscriberState,
)
from campaign.mailing.services import email_key, suppressed_addresses
from campaign.models import insert_for, now_utc
from campaign.text import canonical_email, visible

COLUMNS = ("email", "name", "country", "language")
# Addresses looked up per query (well under any database's parameter limit).
LOOKUP_BATCH = 500

NO_EMAIL = _l("No email address.")
REPEATED = _l("The same address as row %(row)s.")
ON_THE_LIST = _l("Already on the list.")
SUPPRESSED = _l(
    "This address must not be mailed (it unsubscribed, bounced or complained)."
)
BAD_COUNTRY = _l("Unknown country code (use two letters, like AF).")
BAD_LANGUAGE = _l("Not one of this site's languages.")
LONG_NAME = _l("The name is longer than 255 characters.")


class NotCsv(Exception):
    """The file cannot be read as a CSV with the expected header."""

    def __init__(self, message):
        """Keep the message shown to the organiser."""
        super().__init__(str(message))
        self.message = message


@dataclass
class Row:
    """One data row of the file, as read."""

    number: int  # as a spreadsheet numbers it: the header is row 1
    email: str
    name: str | None
    country: str | None
    locale: str


@dataclass
class Report:
    """What an import did: how many joined, which rows were refused and why."""

    added: int = 0
    attested: bool = False
    refused: list[tuple[int, str]] = field(default_factory=list)


def read_rows(data: bytes) -> list[dict]:
    """The file's rows as dicts by lower-cased column name (UTF-8, BOM or not)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NotCsv(
            _l("The file is not UTF-8 text. Save it as “CSV UTF-8”.")
        ) from error
    if "\x00" in text:
        raise NotCsv(_l("This is not a CSV file."))
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [name.strip().lower() for name in next(reader, [])]
        if "email" not in header:
            raise NotCsv(
                _l("The first row must name the columns, one of them “email”.")
            )
        return [dict(zip(header, values, strict=False)) for values in reader]
    except csv.Error as error:
        raise NotCsv(_l("This is not a CSV file.")) from error


def check(number: int, values: dict) -> Row | str:
    """A row made ready to import, or the reason it is refused."""
    cell = {name: visible(values.get(name) or "").strip() for name in COLUMNS}
    if not cell["email"]:
        return str(NO_EMAIL)
    try:
        email = SimpleNamespace(data=cell["email"])
        valid_email(None, email)
        name = SimpleNamespace(data=cell["name"])
        plain_name(None, name)
        plain_text(None, name)
    except ValidationError as error:
        return str(error)
    if len(name.data) > 255:
        return str(LONG_NAME)
    country = cell["country"].upper()
    if country and country not in COUNTRY_CODES:
        return str(BAD_COUNTRY)
    locale = cell["language"] or ORIGINAL
    if locale not in current_app.config["LANGUAGES"]:
        return str(BAD_LANGUAGE)
    return Row(number, email.data, name.data or None, country or None, locale)


def _known(rows: list[Row]) -> tuple[set[str], set[str]]:
    """Which rows' address hashes are on the list, and which addresses are
    suppressed (under their hash or a pre-0021 key)."""
    on_list = set()
    for start in range(0, len(rows), LOOKUP_BATCH):
        batch = rows[start : start + LOOKUP_BATCH]
        on_list.update(
            db.session.scalars(
                sa.select(Subscriber.email_key).where(
                    Subscriber.email_key.in_([email_key(row.email) for row in batch])
                )
            )
        )
    return on_list, suppressed_addresses(row.email for row in rows)


def accepted_rows(data: bytes) -> tuple[list[Row], list[tuple[int, str]]]:
    """The rows that may join, and the refused ones' numbers and reasons."""
    refused, fresh, seen = [], [], {}
    for index, values in enumerate(read_rows(data)):
        number = index + 2
        if not any(value.strip() for value in values.values()):
            continue  # a blank line, as spreadsheets leave at the end
        row = check(number, values)
        if isinstance(row, str):
            refused.append((number, row))
            continue
        canonical = canonical_email(row.email)
        if canonical in seen:
            refused.append((number, str(REPEATED % {"row": seen[canonical]})))
            continue
        seen[canonical] = number
        fresh.append(row)
    on_list, suppressed = _known(fresh)
    rows = []
    for row in fresh:
        if row.email in suppressed:
            refused.append((row.number, str(SUPPRESSED)))
        elif email_key(row.email) in on_list:
            refused.append((row.number, str(ON_THE_LIST)))
        else:
            rows.append(row)
    return rows, sorted(refused)


def import_subscribers(
    data: bytes, name: str, wording: str, attested: bool, organiser
) -> Report:
    """Import a CSV file's rows as subscribers, in one unit of work."""
    rows, refused = accepted_rows(data)
    report = Report(attested=attested, refused=refused)
    source = f"import:{name}"
    now = now_utc()
    state = SubscriberState.SUBSCRIBED if attested else SubscriberState.PENDING
    table = Subscriber.__table__
    insert = insert_for(table, db.engine.dialect.name)
    for row in rows:
        # Nothing doubles if the same address joins in between (ON CONFLICT).
        subscriber_id = db.session.scalar(
            insert.on_conflict_do_nothing(index_elements=["email_key"])
            .values(
                email=row.email,
                name=row.name,
                country=row.country,
                locale=row.locale,
                state=state,
                confirmed_at=now if attested else None,
                token=secrets.token_urlsafe(32),
                email_key=email_key(row.email),
                soft_bounces=0,
                notice=None if attested else SubscriberNotice.CONFIRM,
                notified_at=None if attested else now,
                created_at=now,
                updated_at=now,
            )
            .returning(table.c.id)
        )
        if subscriber_id is None:
            report.refused.append((row.number, str(ON_THE_LIST)))
            continue
        db.session.add(
            Consent(
                subscriber_id=subscriber_id,
                source=source,
                wording=wording,
                given_at=now,
                confirmed_at=now if attested else None,
                attested=attested,
            )
        )
        report.added += 1
    report.refused.sort()
    how = "attested prior consent" if attested else "opt-in email sent"
    detail = f"{source}: {report.added} added ({how}), {len(report.refused)} refused"
    record(organiser, "import-subscribers", detail, rows=report.added)
    db.session.commit()
    if report.added and not attested:
        from campaign.mailing.tasks import kick_sender  # Celery, on first use

        kick_sender()
    return report
