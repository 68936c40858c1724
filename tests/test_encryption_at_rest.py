"""Encryption at rest: a copy of the database is not a copy of the list.

After a supporter signs (with a comment, joining the list), confirms, gives
through Stripe and an organiser enrols two-factor, the raw database (the
SQLite file's bytes; every PostgreSQL table's rows as text) holds none of the
names, addresses, comments or the TOTP secret, while the site still reads
them back (campaign/encryption.py).
"""

import base64
import html
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from campaign.audit import AuditEntry
from campaign.donate.models import Donation, DonationState
from campaign.encryption import (
    EXTENSION,
    KeyRing,
    UnreadableValue,
    email_hash,
    key_ring,
    new_key,
)
from campaign.extensions import db
from campaign.key_rotation import rotate_keys
from campaign.mailing import services as mailing
from campaign.organiser import services as organisers
from campaign.organiser import two_factor
from campaign.permissions import Role
from campaign.petition.models import Signature
from campaign.privacy import services as privacy
from campaign.retention import services as retention
from tests import test_retention
from tests.donate_helpers import checkout_session, deliver, event, stripe_config
from tests.helpers import SLUG, sign
from tests.stripe_standin import running
from tests.test_organiser import add_organiser, log_in
from tests.test_petition_pdf import pdf_text

NAME, EMAIL, COMMENT = "Zarghona Ahmadi", "Zarghona.Ahmadi@Example.org", "Herat-42"
DONOR = "Donor@Example.org"


@pytest.fixture
def standin():
    """The local stand-in for Stripe's API."""
    with running() as server:
        yield server


def raw_contents(app, database_url: str) -> bytes:
    """Everything the database holds, as a thief with the files would read it."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # SQLite: everything written to the file
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return Path(url.database).read_bytes()
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"))
    chunks = []
    with engine.connect() as connection:
        tables = connection.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        for table in list(tables):
            rows = connection.execute(sa.text(f'SELECT t::text FROM "{table}" t'))
            chunks.extend(row[0].encode() for row in rows)
    engine.dispose()
    return b"\n".join(chunks)


def readable_forms(text: str) -> list[bytes]:
    """The ways a value could sit in the database readably."""
    forms = {text, text.lower(), text.upper()}
    found = []
    for form in forms:
        found += [form.encode(), form.encode("utf-16-le"), form.encode().hex().encode()]
        found.append(base64.b64encode(form.encode()))
    return found


def test_a_stolen_database_holds_no_name_email_comment_or_totp_secret(
    app_factory, database_url, inbox, standin
):
    app = app_factory(**stripe_config(standin))
    client = app.test_client()
    sign(client, name=NAME, email=EMAIL, comment=COMMENT, join_list="y")
    link = inbox.link(inbox.messages[-1])
    client.get(link.replace("http://campaign.test", ""))
    paid = event(
        "checkout.session.completed",
        checkout_session(customer_details={"email": DONOR, "name": "Donor Person"}),
    )
    assert deliver(client, paid).status_code == 200
    with app.app_context():
        organiser = organisers.create_organiser(
            "organiser@example.org", "a long and unusual passphrase 81"
        )
        secret = two_factor.start_enrolment(organiser)
        # The site reads it all back.
        signature = db.session.scalar(sa.select(Signature))
        assert (signature.name, signature.email, signature.comment) == (
            NAME,
            "Zarghona.Ahmadi@example.org",  # the domain lower-cased at signing
            COMMENT,
        )
        assert mailing.get_subscriber(EMAIL).name == NAME
        donation = db.session.scalar(sa.select(Donation))
        assert (donation.name, donation.email) == ("Donor Person", DONOR.lower())
    raw = raw_contents(app, database_url)
    secrets_typed = [NAME, "Ahmadi", EMAIL, "Zarghona.Ahmadi@example.org"]
    secrets_typed += [COMMENT, DONOR, "Donor Person", secret]
    for value in secrets_typed:
        for form in readable_forms(value):
            assert form not in raw, f"{value!r} is readable in the database"


def test_a_value_opens_only_with_a_listed_key_and_in_its_own_column():
    """Rotation: a value sealed under an old key opens while that key is
    listed after the new one, and not once it is dropped; a value moved to
    another column does not open."""
    old, new = new_key(), new_key()
    sealed = KeyRing.from_text(old).encrypt(NAME, b"signature.name")
    rotated = KeyRing.from_text(f"{new},{old}")
    assert rotated.decrypt(sealed, b"signature.name") == NAME
    assert not rotated.is_current(sealed)
    assert rotated.is_current(rotated.encrypt(NAME, b"signature.name"))
    with pytest.raises(UnreadableValue):
        KeyRing.from_text(new).decrypt(sealed, b"signature.name")
    with pytest.raises(UnreadableValue):
        rotated.decrypt(sealed, b"signature.email")


def use_keys(app, keys: str) -> None:
    """Restart the app's key ring on other ENCRYPTION_KEYS."""
    app.config["ENCRYPTION_KEYS"] = keys
    app.extensions.pop(EXTENSION, None)


def test_rotating_keys_reseals_everything_so_the_old_key_can_go(app, client):
    old, new = app.config["ENCRYPTION_KEYS"], new_key()
    sign(client, name=NAME, email=EMAIL, comment=COMMENT, join_list="y")
    use_keys(app, f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["campaign", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "signature: 3 re-encrypted" in result.output
    use_keys(app, new)  # the old key dropped
    with app.app_context():
        signature = db.session.scalar(sa.select(Signature))
        assert (signature.name, signature.comment) == (NAME, COMMENT)
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "rotate-keys")
        )
        assert entry.rows >= 3 and "signature=3" in entry.detail
    again = app.test_cli_runner().invoke(args=["campaign", "rotate-keys"])
    assert "signature: 0 re-encrypted" in again.output


def test_without_rotation_dropping_the_old_key_loses_the_values(app, client):
    """What the command protects: a value left under a dropped key is lost."""
    sign(client, name=NAME, email=EMAIL, comment=COMMENT)
    use_keys(app, new_key())
    with app.app_context(), pytest.raises(UnreadableValue):
        db.session.scalar(sa.select(Signature.name))


def donor_then_erasure():
    """A donation naming its donor; then the donor asks to be forgotten
    (campaign/privacy/services.py blanks the name and address)."""
    db.session.add(
        Donation(
            state=DonationState.PAID,
            amount=2500,
            name="Donor Person",
            email=DONOR.lower(),
            email_hash=email_hash(DONOR),
        )
    )
    db.session.commit()
    erase = lambda: privacy.erase_supporter(DONOR, None)  # noqa: E731
    return "donation", erase, sa.select(Donation.name, Donation.email), (None, None)


def signer_then_anonymising():
    """A signature on a petition closed seven months ago; then retention
    anonymises it (campaign/retention/services.py)."""
    test_retention.sign(EMAIL, NAME, comment=COMMENT)
    test_retention.close(months_ago=7)
    read = sa.select(Signature.name, Signature.email, Signature.comment)
    return "signature", retention.apply_retention, read, ("", "", None)


@pytest.mark.parametrize("case", [donor_then_erasure, signer_then_anonymising])
def test_rotation_never_writes_back_a_value_erased_since_it_was_read(
    app, monkeypatch, case
):
    """Rotation reads a batch, then writes each value back re-sealed; a value
    erased or anonymised in between stays erased, and is not counted."""
    old, new = app.config["ENCRYPTION_KEYS"], new_key()
    with app.app_context():
        table, erase, read, erased = case()
    use_keys(app, f"{new},{old}")
    with app.app_context():
        ring, interrupted = key_ring(), []
        opened = ring.decrypt

        def decrypt(token, context):
            # The first value of the table it opens: the batch is read,
            # nothing of it written yet.
            if not interrupted and context.startswith(f"{table}.".encode()):
                interrupted.append(context)
                with app.app_context():  # a session of its own, committed
                    erase()
            return opened(token, context)

        monkeypatch.setattr(ring, "decrypt", decrypt)
        counts = rotate_keys()
    assert interrupted
    use_keys(app, new)  # the old key dropped: what is left opens without it
    with app.app_context():
        assert tuple(db.session.execute(read).one()) == erased
    assert counts[table] == 0


def test_organisers_read_in_clear_what_the_database_keeps_sealed(
    app_factory, inbox, standin
):
    """Every place an organiser reads personal data decrypts it: the
    moderation list, the printable page, the PDF, the exports, the
    subscribers and donations pages."""
    app = app_factory(**stripe_config(standin))
    client = app.test_client()
    sign(client, name=NAME, email=EMAIL, comment=COMMENT, join_list="y", public="y")
    client.get(inbox.link(inbox.messages[-1]).replace("http://campaign.test", ""))
    paid = event(
        "checkout.session.completed",
        checkout_session(customer_details={"email": DONOR, "name": "Donor Person"}),
    )
    assert deliver(client, paid).status_code == 200
    admin = add_organiser(app, "admin@example.org", Role.ADMIN)
    organiser = app.test_client()
    log_in(organiser, admin)
    address = "Zarghona.Ahmadi@example.org"  # the domain lower-cased at signing
    petition = f"/organiser/petitions/{SLUG}"
    pages = {
        f"{petition}/moderate": (NAME, COMMENT),
        f"{petition}/print": (NAME,),
        f"{petition}/signatures.csv": (NAME, address, COMMENT),
        f"/organiser/subscribers?search={EMAIL}": (address,),
        "/organiser/subscribers/export.csv": (NAME, address),
        "/organiser/donations": ("Donor Person", DONOR.lower()),
        "/organiser/donations.csv": ("Donor Person", DONOR.lower()),
    }
    for path, values in pages.items():
        response = organiser.get(path)
        assert response.status_code == 200, path
        text = html.unescape(response.get_data(as_text=True))
        for value in values:
            assert value in text, f"{value!r} is not readable on {path}"
    pdf = organiser.get(f"{petition}/signatures.pdf")
    assert pdf.status_code == 200 and NAME in pdf_text(pdf.data)
