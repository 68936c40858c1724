"""The list itself: organisers find, count, export and import subscribers."""

import csv
import io
import re
import secrets

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from campaign.audit import AuditEntry
from campaign.extensions import db
from campaign.mailing import services
from campaign.mailing.models import Consent, Subscriber, SubscriberState
from campaign.models import now_utc
from campaign.permissions import Role
from tests.helpers import SLUG, csrf_token, sign
from tests.test_organiser import add_organiser, log_in

PAGE = "/organiser/subscribers"
IMPORT = "/organiser/subscribers/import"


def add(app, email, state=SubscriberState.SUBSCRIBED, source="join", **fields):
    """Put one address on the list as it would be after joining (no email)."""
    with app.app_context():
        db.session.add(
            Subscriber(
                email=email,
                email_key=services.email_key(email),
                token=secrets.token_urlsafe(32),
                state=state,
                confirmed_at=now_utc(),
                consents=[Consent(source=source, wording="Yes please")],
                **fields,
            )
        )
        db.session.commit()


@pytest.fixture
def staff(app, client):
    """A client signed in as staff: may look and export, not import."""
    add_organiser(app, role=Role.STAFF)
    assert log_in(client).status_code == 302
    return client


@pytest.fixture
def editor(app, client):
    """A client signed in as an editor: may import."""
    add_organiser(app, role=Role.EDITOR)
    assert log_in(client).status_code == 302
    return client


@pytest.fixture
def list_of_five(app):
    """Five addresses in every state, language, country and source."""
    add(app, "ada@example.org", locale="en", country="GB", name="Ada")
    add(app, "adam@example.org", SubscriberState.PENDING, locale="fa_AF", country="AF")
    add(app, "bada@example.org", locale="ps", country="AF", source="story")
    add(app, "gone@example.org", SubscriberState.UNSUBSCRIBED, locale="en")
    add(app, "zia@example.org", locale="fa_AF", country="AF", source="import:rally")


def shown(page: str) -> list[str]:
    """The addresses listed on a subscribers page, in order."""
    table = page.split("<tbody>", 1)[1] if "<tbody>" in page else ""
    return re.findall(r"<td><bdi>([^<]+@[^<]+)</bdi></td>", table)


def counts(page: str) -> dict[str, int]:
    """The per-state counts a subscribers page shows."""
    found = re.findall(r"<li><strong>(\d+)</strong> ([^<]+)</li>", page)
    return {label: int(number) for number, label in found}


def test_the_page_lists_everyone_with_counts_per_state(staff, list_of_five):
    page = staff.get(PAGE).get_data(as_text=True)
    assert sorted(shown(page)) == [
        "ada@example.org",
        "adam@example.org",
        "bada@example.org",
        "gone@example.org",
        "zia@example.org",
    ]
    assert counts(page) == {"Waiting to confirm": 1, "Subscribed": 3, "Unsubscribed": 1}
    assert "<bdi>Ada</bdi>" in page  # names isolated for right-to-left pages


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=ada@example.org", ["ada@example.org"]),
        ("search=ADA@EXAMPLE.ORG", ["ada@example.org"]),
        ("state=pending", ["adam@example.org"]),
        ("source=story", ["bada@example.org"]),
        ("source=import:rally", ["zia@example.org"]),
        ("language=fa_AF", ["zia@example.org", "adam@example.org"]),
        ("country=af", ["zia@example.org", "bada@example.org", "adam@example.org"]),
        ("country=AF&language=fa_AF&state=subscribed", ["zia@example.org"]),
    ],
)
def test_search_and_filters(staff, list_of_five, query, expected):
    response = staff.get(f"{PAGE}?{query}")
    assert response.status_code == 200
    assert shown(response.get_data(as_text=True)) == expected


@pytest.mark.parametrize("search", ["ada", "da", "example.org"])
def test_only_a_whole_address_is_searched(staff, list_of_five, search):
    """Addresses are stored encrypted and found by a keyed hash, so part of
    one cannot be matched: the page says so rather than matching nothing."""
    response = staff.get(f"{PAGE}?search={search}")
    assert response.status_code == 400
    assert 'class="error-summary"' in response.get_data(as_text=True)


def test_counts_follow_the_filters_but_not_the_state(staff, list_of_five):
    page = staff.get(f"{PAGE}?country=AF&state=subscribed").get_data(as_text=True)
    assert counts(page) == {"Waiting to confirm": 1, "Subscribed": 2, "Unsubscribed": 0}


def test_filter_by_petition_signed(app, staff, list_of_five, inbox):
    signer = app.test_client()
    sign(signer, email="bada@example.org")
    sign(signer, email="zia@example.org")  # never confirmed: did not sign
    link = inbox.link(inbox.to("bada@example.org")[-1])
    signer.get(link.replace("http://campaign.test", ""))
    page = staff.get(f"{PAGE}?petition={SLUG}").get_data(as_text=True)
    assert shown(page) == ["bada@example.org"]


@pytest.mark.parametrize(
    "query", ["state=gone", "language=xx", "country=ZZ", "petition=nope"]
)
def test_bad_filters_are_a_400_with_a_message(staff, list_of_five, query):
    response = staff.get(f"{PAGE}?{query}")
    assert response.status_code == 400
    assert "Please fix the highlighted fields." in response.get_data(as_text=True)


def test_pages_of_fifty(app, staff):
    for number in range(55):
        add(app, f"reader{number:02}@example.org")
    first = staff.get(PAGE).get_data(as_text=True)
    assert len(shown(first)) == 50 and shown(first)[0] == "reader54@example.org"
    following = re.search(r'href="([^"]*before=\d+[^"]*)"', first).group(1)
    second = staff.get(following.replace("&amp;", "&")).get_data(as_text=True)
    assert shown(second) == [f"reader{n:02}@example.org" for n in range(4, -1, -1)]
    assert "Next page" not in second and "First page" in second


def exported(response) -> list[dict]:
    """The rows of a CSV download."""
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_export_is_the_filter_streamed_formula_safe_and_audited(app, staff):
    add(app, "ada@example.org", name='=HYPERLINK("http://x")', country="GB")
    add(app, "bob@example.org", name="@SUM(A1)", source="story")
    response = staff.get(f"{PAGE}/export.csv?search=ada@example.org")
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    [row] = exported(response)
    assert row["email"] == "ada@example.org"
    assert row["name"] == '\'=HYPERLINK("http://x")'
    assert (row["state"], row["country"], row["first_source"]) == (
        "subscribed",
        "GB",
        "join",
    )
    [row] = exported(staff.get(f"{PAGE}/export.csv?source=story"))
    assert row["name"] == "'@SUM(A1)"
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "export-subscribers")
        ).all()
        assert [(e.rows, e.detail) for e in entries] == [
            (1, "subscribers via web: search=yes all"),
            (1, "subscribers via web: source=story"),
        ]
    # The search words may be an address: the audit log never holds them.
    assert "ada@" not in entries[0].detail


def test_only_signed_in_organisers_see_or_export_the_list(app, client):
    add(app, "ada@example.org")
    assert client.get(PAGE).status_code == 302
    assert client.get(f"{PAGE}/export.csv").status_code == 401


# Import.


def upload(client, data: bytes, filename="people.csv", **fields):
    """Send the import form with a file, as a browser would."""
    form = {
        "csrf_token": csrf_token(client, IMPORT),
        "name": "spring-rally",
        "wording": "Email me about the campaign.",
        "file": (io.BytesIO(data), filename),
        **fields,
    }
    return client.post(IMPORT, data=form, content_type="multipart/form-data")


def refusals(page: str) -> list[tuple[int, str]]:
    """The report's table of refused rows."""
    found = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", page)
    return [(int(number), reason) for number, reason in found]


CSV = (
    "email,name,country,language\n"
    "new@example.org,New Person,AF,fa_AF\n"  # row 2: added
    "not an address,,,\n"  # 3
    "bad.country@example.org,,XX,\n"  # 4
    "bad.lang@example.org,,,de\n"  # 5
    "NEW@example.org,Again,,\n"  # 6: same as row 2
    "member@example.org,,,\n"  # 7: on the list already
    "left@example.org,,,\n"  # 8: unsubscribed (suppressed)
    "bounced@example.org,,,\n"  # 9: hard bounce
    "formula@example.org,=cmd|' /C calc'!A0,,\n"  # 10
    ",,,\n"  # a blank line is skipped
    "second@example.org,,,en\n"  # 12: added
)


@pytest.fixture
def known(app):
    """Addresses the import must leave alone."""
    add(app, "member@example.org")
    add(app, "left@example.org")
    with app.app_context():
        services.unsubscribe(services.get_subscriber("left@example.org"))
        services.record_bounce("bounced@example.org", "hard")


def test_the_import_reports_each_refused_row_and_why(app, editor, known, inbox):
    response = upload(editor, CSV.encode())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 people added; each was sent an email to confirm." in page
    assert refusals(page) == [
        (3, "Enter an email address like name@example.org."),
        (4, "Unknown country code (use two letters, like AF)."),
        (5, "Not one of this site&#39;s languages."),
        (6, "The same address as row 2."),
        (7, "Already on the list."),
        (
            8,
            "This address must not be mailed (it unsubscribed, bounced or complained).",
        ),
        (
            9,
            "This address must not be mailed (it unsubscribed, bounced or complained).",
        ),
        (10, "Your name can&#39;t start with = + - or @."),
    ]
    with app.app_context():
        new = services.get_subscriber("new@example.org")
        assert (new.state, new.name, new.country, new.locale) == (
            SubscriberState.PENDING,
            "New Person",
            "AF",
            "fa_AF",
        )
        [consent] = new.consents
        assert (consent.source, consent.wording, consent.attested) == (
            "import:spring-rally",
            "Email me about the campaign.",
            False,
        )
        assert consent.confirmed_at is None
        left = services.get_subscriber("left@example.org")
        assert left.state is SubscriberState.UNSUBSCRIBED
        assert services.get_subscriber("bounced@example.org") is None
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "import-subscribers")
        ).one()
        assert entry.rows == 2
        assert entry.detail == (
            "import:spring-rally: 2 added (opt-in email sent), 8 refused"
        )
    # Each new address was asked to confirm (the usual double opt-in email).
    assert sorted(m["X-Envelope-To"] for m in inbox.messages) == [
        "new@example.org",
        "second@example.org",
    ]
    link = inbox.link(inbox.to("new@example.org")[0], r"/join/confirm/")
    app.test_client().get(link.replace("http://campaign.test", ""))
    with app.app_context():
        assert services.get_subscriber("new@example.org").state is (
            SubscriberState.SUBSCRIBED
        )


def test_importing_the_same_file_again_doubles_nothing(app, editor, known, inbox):
    upload(editor, CSV.encode())
    inbox.messages.clear()
    page = upload(editor, CSV.encode()).get_data(as_text=True)
    assert "0 people added" in page
    assert (2, "Already on the list.") in refusals(page)
    assert (12, "Already on the list.") in refusals(page)
    assert inbox.messages == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 4
        assert db.session.scalar(sa.select(sa.func.count(Consent.id))) == 4


def test_attested_imports_join_at_once_without_an_email(app, editor, inbox):
    data = "\ufeffEmail,Name\nada@example.org,Ada\n".encode()  # BOM, any case
    page = upload(editor, data, attested="y").get_data(as_text=True)
    assert "1 person added to the list (consent attested)." in page
    assert inbox.messages == []
    with app.app_context():
        ada = services.get_subscriber("ada@example.org")
        assert ada.state is SubscriberState.SUBSCRIBED
        [consent] = ada.consents
        assert consent.attested and consent.confirmed_at is not None
        assert consent.source == "import:spring-rally"
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "import-subscribers")
        ).one()
        assert "attested prior consent" in entry.detail


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"e,m,a,i,l\n", "people.csv", "one of them “email”"),
        ("email\nzoë@example.org\n".encode("latin-1"), "people.csv", "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "people.csv", "not UTF-8"),
        (b"email\x00\n", "people.csv", "This is not a CSV file."),
        (b"email\na@example.org\n", "people.xlsx", "Choose a file ending in .csv."),
        (b"", "people.csv", "one of them “email”"),
    ],
)
def test_files_that_are_not_csv_are_refused_clearly(
    app, editor, data, filename, message
):
    response = upload(editor, data, filename=filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Name where these people agreed."),
        ("name", "spring rally!", "like spring-rally-2026"),
        ("wording", "", "Copy in the words they agreed to."),
    ],
)
def test_the_import_needs_a_source_and_the_wording(app, editor, field, value, message):
    response = upload(editor, b"email\na@example.org\n", **{field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 0


def test_a_file_over_the_limit_is_a_413(app, editor):
    big = b"email\n" + b"someone@example.org\n" * 30_000
    # Encoded in memory: the test client would spool a body this size to a
    # temporary file it never closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(editor, IMPORT),
            "name": "big",
            "wording": "Yes",
            "file": FileStorage(io.BytesIO(big), filename="big.csv"),
        }
    )
    response = editor.post(
        IMPORT, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413
    assert "at most 512 KB" in response.get_data(as_text=True)


def test_staff_may_not_import(app, staff):
    assert staff.get(IMPORT).status_code == 403


def test_a_whole_address_is_searched_in_its_canonical_form(app, staff):
    with app.app_context():
        db.session.add(
            Subscriber(
                email="Ada.Lovelace@gmail.com",
                email_key=services.email_key("adalovelace@gmail.com"),
                token=secrets.token_urlsafe(32),
                state=SubscriberState.SUBSCRIBED,
            )
        )
        db.session.commit()
    page = staff.get(f"{PAGE}?search=ada.lovelace%2Bnews@googlemail.com")
    assert shown(page.get_data(as_text=True)) == ["Ada.Lovelace@gmail.com"]
