"""The migrations build exactly the schema the models describe, and carry
what a site stored before them across."""

from datetime import UTC, date, datetime

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from campaign.encryption import domain_hash, email_hash
from campaign.extensions import db
from campaign.mailing.models import Suppression, SuppressionReason
from campaign.mailing.services import (
    get_subscriber,
    legacy_suppression_key,
    suppression_reason,
)
from campaign.organiser.models import Organiser
from campaign.petition.models import Petition, Signature
from campaign.privacy.services import donor_record, supporter_signatures
from campaign.story.models import Story, StoryState
from tests.helpers import reset_database


def test_migrations_match_the_models(app):
    with app.app_context():
        reset_database()
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == []


def test_migrations_downgrade_cleanly(app):
    with app.app_context():
        reset_database()
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_upgrading_sanitises_html_stored_before_the_sanitiser(app):
    unsafe = '<img src="x" onerror="alert(1)"> <a href="javascript:alert(2)">go</a>'
    # Rows as 0007 stored them, written with that schema's columns only (the
    # models describe today's).
    story = sa.table(
        "story",
        *map(sa.column, ("id", "slug", "title", "kicker", "summary")),
        *map(sa.column, ("published_on", "body_markdown", "body_html", "sources")),
        *map(sa.column, ("created_at", "updated_at")),
    )
    petition = sa.table(
        "petition",
        *map(sa.column, ("id", "slug", "story_id", "title", "target", "goal")),
        *map(sa.column, ("body_markdown", "body_html", "state")),
        *map(sa.column, ("created_at", "updated_at")),
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    times = {"created_at": now, "updated_at": now}
    with app.app_context():
        reset_database()
        flask_migrate.upgrade(revision="0007")
        db.session.execute(
            story.insert().values(
                id=1,
                slug="s",
                title="S",
                kicker="",
                summary="",
                published_on=date(2026, 1, 1),
                body_markdown=unsafe,
                body_html=unsafe,
                sources="[]",
                **times,
            )
        )
        db.session.execute(
            petition.insert().values(
                id=1,
                slug="p",
                story_id=1,
                title="P",
                target="T",
                goal=10,
                body_markdown=unsafe,
                body_html=unsafe,
                state="open",
                **times,
            )
        )
        db.session.commit()
        db.session.remove()
        flask_migrate.downgrade(revision="0007")
        flask_migrate.upgrade()
        stored = db.session.scalar(sa.select(Petition.body_html))
        story_html = db.session.scalar(sa.select(Story.body_html))
        state = db.session.scalar(sa.select(Story.state))
    assert "onerror" not in story_html and "javascript:" not in story_html
    assert state is StoryState.PUBLISHED  # stories from before states stay public
    assert "onerror" not in stored and "javascript:" not in stored


# Someone on a site at 0020, before encryption at rest: one mailbox written
# four ways (Gmail ignores case, dots and +tags), so the keyed hashes must
# come from the canonical address.
NAME = "Ada Lovelace"
SIGNED_AS = "Ada.Lovelace+petition@GMail.com"
JOINED_AS = "ADA.LOVELACE@gmail.com"
GAVE_AS = "ada.lovelace@GMAIL.com"
GIVES_MONTHLY_AS = "AdaLovelace@Gmail.Com"
MAILBOX = "adalovelace@gmail.com"
COMMENT = "Apartheid against women is apartheid."
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Erased before the upgrade: no row holds the address, only its suppression.
ERASED = "Erased.Person@Example.org"
PLAINTEXT = (NAME, SIGNED_AS, JOINED_AS, GAVE_AS, GIVES_MONTHLY_AS, MAILBOX)
PLAINTEXT += (COMMENT, TOTP_SECRET)


def insert_as_of_0020(table: str, /, **row) -> None:
    """One row written with exactly these columns (the models describe today's)."""
    db.session.execute(sa.table(table, *map(sa.column, row)).insert().values(row))


def read_as_of_0020(name: str, *columns: str) -> list:
    """Rows of ``name`` through that schema's columns, by id."""
    table = sa.table(name, *map(sa.column, ("id", *columns)))
    return db.session.execute(
        sa.select(*(table.c[c] for c in columns)).order_by(table.c.id)
    ).all()


def stored_bytes(name: str) -> bytes:
    """Every value of every column of a table as stored, lower-cased."""
    table = sa.Table(name, sa.MetaData(), autoload_with=db.engine)
    found = []
    for row in db.session.execute(sa.select(table)):
        for value in row:
            if isinstance(value, str):
                value = value.encode()
            if isinstance(value, bytes | memoryview):
                found.append(bytes(value).lower())
    return b"\n".join(found)


def store_plaintext_as_0020_did(now: datetime) -> None:
    """A petition, its signatures, a subscriber, donations, an organiser with
    two-factor on and suppressions, as the code before 0021 wrote them."""
    times = {"created_at": now, "updated_at": now}
    insert_as_of_0020(
        "petition",
        id=1,
        slug="p",
        title="P",
        target="T",
        goal=10,
        body_markdown="",
        body_html="",
        state="closed",
        **times,
    )
    signer = {"petition_id": 1, "country": "GB", "join_list": True, "public": True}
    signer |= {"state": "validated", "locale": "en", **times}
    insert_as_of_0020(
        "signature",
        id=1,
        name=NAME,
        email=SIGNED_AS,
        canonical_email=MAILBOX,
        comment=COMMENT,
        **signer,
    )
    # Retention anonymised these, with a placeholder unique to the row.
    for row_id in (2, 3):
        insert_as_of_0020(
            "signature",
            id=row_id,
            name="",
            email="",
            canonical_email=f"anonymised:{row_id}",
            **signer,
        )
    insert_as_of_0020(
        "subscriber",
        id=1,
        email=JOINED_AS,
        canonical_email=MAILBOX,
        name=NAME,
        state="unsubscribed",
        locale="en",
        token="t" * 43,
        email_key=legacy_suppression_key(JOINED_AS),
        soft_bounces=0,
        **times,
    )
    gift = {"amount": 500, "currency": "gbp", "email": GIVES_MONTHLY_AS, "name": NAME}
    insert_as_of_0020(
        "monthly_gift", id=1, subscription_id="sub_1", state="active", **gift, **times
    )
    insert_as_of_0020(
        "donation",
        id=1,
        kind="one_off",
        state="paid",
        amount=1000,
        currency="gbp",
        refunded_amount=0,
        email=GAVE_AS,
        name=NAME,
        **times,
    )
    insert_as_of_0020(
        "organiser",
        id=1,
        email="organiser@example.org",
        password_hash="x",
        role="admin",
        active=True,
        totp_secret=TOTP_SECRET,
        two_factor_on=True,
        **times,
    )
    for email, reason in ((JOINED_AS, "unsubscribed"), (ERASED, "complaint")):
        insert_as_of_0020(
            "suppression",
            email_key=legacy_suppression_key(email),
            reason=reason,
            created_at=now,
        )


def test_upgrading_encrypts_personal_data_stored_before_encryption(app):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        reset_database()
        flask_migrate.upgrade(revision="0020")
        store_plaintext_as_0020_did(now)
        db.session.commit()
        db.session.remove()

        flask_migrate.upgrade()

        # No table holds any of it in the clear ...
        for name in ("signature", "subscriber", "donation", "monthly_gift"):
            stored = stored_bytes(name)
            for text in PLAINTEXT:
                assert text.lower().encode() not in stored, (name, text)
        assert TOTP_SECRET.lower().encode() not in stored_bytes("organiser")
        # ... yet everything reads back as it was written,
        signature = db.session.get(Signature, 1)
        assert (signature.name, signature.email) == (NAME, SIGNED_AS)
        assert signature.comment == COMMENT
        assert signature.email_hash == email_hash(MAILBOX)
        assert signature.domain_key == domain_hash(MAILBOX)
        anonymised = db.session.scalars(
            sa.select(Signature).where(Signature.id > 1)
        ).all()
        assert [(s.email, s.email_hash) for s in anonymised] == [("", None)] * 2
        assert db.session.get(Organiser, 1).totp_secret == TOTP_SECRET
        # and is found by the address however it is written: the
        # subscriber, a data request's signatures and donations,
        subscriber = get_subscriber(MAILBOX)
        assert (subscriber.email, subscriber.name) == (JOINED_AS, NAME)
        assert [s.id for s in supporter_signatures("ada.lovelace@gmail.com")] == [1]
        donor = donor_record(MAILBOX)
        assert [(d["email"], d["name"]) for d in donor["donations"]] == [
            (GAVE_AS, NAME)
        ]
        assert [(g["email"], g["name"]) for g in donor["monthly_gifts"]] == [
            (GIVES_MONTHLY_AS, NAME)
        ]
        # and the suppression list, re-keyed where the address was still
        # held, still under the old key where it was erased.
        assert suppression_reason(SIGNED_AS) is SuppressionReason.UNSUBSCRIBED
        assert suppression_reason(ERASED) is SuppressionReason.COMPLAINT
        keys = set(db.session.scalars(sa.select(Suppression.email_key)))
        assert keys == {email_hash(MAILBOX), legacy_suppression_key(ERASED)}
        db.session.remove()

        # The downgrade decrypts it all back to 0020's plaintext columns.
        flask_migrate.downgrade(revision="0020")
        signatures = read_as_of_0020(
            "signature", "name", "email", "canonical_email", "comment"
        )
        assert signatures == [
            (NAME, SIGNED_AS, MAILBOX, COMMENT),
            ("", "", "anonymised:2", None),
            ("", "", "anonymised:3", None),
        ]
        assert read_as_of_0020(
            "subscriber", "email", "canonical_email", "name", "email_key"
        ) == [(JOINED_AS, MAILBOX, NAME, legacy_suppression_key(MAILBOX))]
        assert read_as_of_0020("donation", "email", "name") == [(GAVE_AS, NAME)]
        assert read_as_of_0020("monthly_gift", "email", "name") == [
            (GIVES_MONTHLY_AS, NAME)
        ]
        assert read_as_of_0020("organiser", "totp_secret") == [(TOTP_SECRET,)]
        suppression = sa.table("suppression", sa.column("email_key"))
        keys = set(db.session.scalars(sa.select(suppression.c.email_key)))
        assert keys == {legacy_suppression_key(MAILBOX), legacy_suppression_key(ERASED)}
