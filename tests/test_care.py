"""Looking after supporters' data: roles, moderation, data requests, erasure."""

import json
import re

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.extensions import db
from campaign.mailing import services as mailing
from campaign.mailing.models import Consent
from campaign.organiser.services import find_organiser
from campaign.permissions import Role
from campaign.petition.models import Signature, SignatureState
from campaign.privacy import services as privacy
from campaign.retention import services as retention
from tests.helpers import (
    SLUG,
    count,
    csrf_token,
    previewed,
    refused_as_forged,
    sign,
    snapshot,
    submit,
)
from tests.test_organiser import add_organiser, log_in
from tests.test_retention import close


def sign_and_confirm(app, inbox, *emails, **fields) -> None:
    """Supporters sign and follow their links."""
    client = app.test_client()
    for email in emails:
        sign(client, email=email, **fields)
        link = inbox.link(inbox.to(email)[-1])
        client.get(re.sub(r"^https?://[^/]+", "", link))


def signed_in(app, email: str, role: Role):
    """A client signed in as a new organiser with this role."""
    add_organiser(app, email, role)
    client = app.test_client()
    log_in(client, email)
    return client


@pytest.fixture
def admin(app):
    """A client signed in as an admin."""
    return signed_in(app, "admin@example.org", Role.ADMIN)


@pytest.fixture
def staff(app):
    """A client signed in as staff."""
    return signed_in(app, "staff@example.org", Role.STAFF)


def states(app) -> dict[str, str]:
    """Each signature's state, by email."""
    with app.app_context():
        rows = db.session.execute(sa.select(Signature.email, Signature.state))
        return {email: state.value for email, state in rows}


def test_staff_cannot_read_the_audit_log_or_erase(staff, admin):
    assert staff.get("/organiser/audit").status_code == 403
    assert admin.get("/organiser/audit").status_code == 200
    response = submit(
        staff, "/organiser/supporters/erase", "/organiser/supporters", email="x@y.org"
    )
    assert response.status_code == 403


def test_bulk_invalidation_previews_then_applies(app, staff, inbox):
    sign_and_confirm(app, inbox, "a@spam.example", "b@spam.example", "c@fine.org")
    sign(app.test_client(), email="d@spam.example")  # pending
    path = f"/organiser/petitions/{SLUG}/moderate"
    data = {"csrf_token": csrf_token(staff, path), "email_domain": "spam.example"}
    preview = staff.post(path, data=data)
    assert "3 signatures match." in preview.get_data(as_text=True)
    assert count(app.test_client()) == 3  # nothing changed yet
    confirm = {**data, "confirm": "y", "previewed": previewed(preview)}
    applied = staff.post(path, data=confirm)
    assert applied.status_code == 302
    assert count(app.test_client()) == 1
    assert states(app) == {
        "a@spam.example": "invalidated",
        "b@spam.example": "invalidated",
        "c@fine.org": "validated",
        "d@spam.example": "invalidated",
    }
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.rows) == ("invalidate", 3)


def test_bulk_invalidation_needs_a_criterion(staff):
    path = f"/organiser/petitions/{SLUG}/moderate"
    response = staff.post(path, data={"csrf_token": csrf_token(staff, path)})
    assert response.status_code == 400
    assert "Choose at least one criterion." in response.get_data(as_text=True)


def test_one_signature_can_be_invalidated_or_hidden(app, staff, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    assert "<li><bdi>Ada</bdi>, United Kingdom</li>" in app.test_client().get(
        "/"
    ).get_data(as_text=True)
    with app.app_context():
        signature_id = db.session.scalar(sa.select(Signature.id))
    csrf = csrf_token(staff, f"/organiser/petitions/{SLUG}")
    staff.post(f"/organiser/signatures/{signature_id}/hide", data={"csrf_token": csrf})
    assert "Ada, United" not in app.test_client().get("/").get_data(as_text=True)
    staff.post(
        f"/organiser/signatures/{signature_id}/invalidate", data={"csrf_token": csrf}
    )
    assert states(app) == {"ada@example.org": "invalidated"}
    assert count(app.test_client()) == 0


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_organisers_hide_a_public_comment_and_it_is_audited(app, inbox, role):
    sign_and_confirm(app, inbox, "ada@example.org", public="y", comment="Buy pills")
    assert "Buy pills" in app.test_client().get("/").get_data(as_text=True)
    organiser = signed_in(app, "org2@example.org", role)
    moderation = f"/organiser/petitions/{SLUG}/moderate"
    assert "Buy pills" in organiser.get(moderation).get_data(as_text=True)
    with app.app_context():
        signature_id = db.session.scalar(sa.select(Signature.id))
    path = f"/organiser/signatures/{signature_id}/hide-comment"
    assert submit(organiser, path, moderation).status_code == 302
    html = app.test_client().get("/").get_data(as_text=True)
    assert "Buy pills" not in html
    assert "<bdi>Ada</bdi>, United Kingdom" in html  # the name stays: hidden separately
    assert "Buy pills" not in organiser.get(moderation).get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.action == "hide-comment"
        assert entry.detail == f"signature {signature_id}" and entry.rows == 1
        assert entry.organiser.email == "org2@example.org"


def test_anonymous_visitors_cannot_hide_comments(app, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y", comment="Keep me")
    visitor = app.test_client()
    with app.app_context():
        signature_id = db.session.scalar(sa.select(Signature.id))
    path = f"/organiser/signatures/{signature_id}/hide-comment"
    # A valid CSRF token (public pages carry none now; the sign-in page does),
    # so it is the sign-in requirement that refuses.
    response = submit(visitor, path, "/organiser/login")
    assert response.status_code == 302
    assert "/organiser/login" in response.headers["Location"]
    assert "Keep me" in visitor.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(AuditEntry)).all() == []


def test_printable_list_has_confirmed_names_and_countries(app, staff, inbox):
    sign_and_confirm(app, inbox, "ada@example.org")
    sign(app.test_client(), name="Pending Person", email="p@example.org")
    html = staff.get(f"/organiser/petitions/{SLUG}/print").get_data(as_text=True)
    assert "<li>Ada Lovelace, United Kingdom</li>" in html
    assert "Pending Person" not in html
    assert "1 person signed this petition, confirmed by email." in html
    assert "ada@example.org" not in html


def test_the_printable_list_counts_anonymised_signers_without_empty_rows(
    app, staff, inbox
):
    sign_and_confirm(app, inbox, "ada@example.org", "grace@example.org")
    with app.app_context():
        close(months_ago=7)
        retention.apply_retention()
    html = staff.get(f"/organiser/petitions/{SLUG}/print").get_data(as_text=True)
    assert "2 people signed this petition, each confirmed by email." in html
    assert (
        "2 of them are counted, not listed: their names were deleted after the "
        "petition closed, to protect their privacy." in html
    )
    [listed] = re.findall(r'<ol class="signers-print">(.*?)</ol>', html, re.S)
    assert listed.strip() == ""


def test_a_supporters_data_is_found_without_the_email_in_the_url(app, staff, inbox):
    sign_and_confirm(app, inbox, "Ada.Lovelace@gmail.com", comment="For them")
    response = submit(
        staff,
        "/organiser/supporters",
        "/organiser/supporters",
        email="adalovelace@gmail.com",
    )
    html = response.get_data(as_text=True)
    assert "Ada.Lovelace@gmail.com" in html and "For them" in html
    exported = submit(
        staff,
        "/organiser/supporters/export",
        "/organiser/supporters",
        email="adalovelace@gmail.com",
    )
    data = json.loads(exported.get_data(as_text=True))
    [signature] = data["signatures"]
    assert signature["comment"] == "For them"
    assert signature["consents"] == {
        "mailing_list": False,
        "petition_updates": False,
        "show_name_publicly": False,
    }
    assert signature["comment_hidden_by_moderator"] is False
    assert "no-store" in exported.headers["Cache-Control"]


def test_erasure_leaves_nothing_behind(app, admin, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", "grace@example.org")
    sign(app.test_client(), email="ada@example.org", comment="again")  # repeat
    response = submit(
        admin,
        "/organiser/supporters/erase",
        "/organiser/supporters",
        email="ADA@example.org",
    )
    assert response.status_code == 302
    assert count(app.test_client()) == 1
    assert states(app) == {"grace@example.org": "validated"}
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry)).all()
        assert [entry.action for entry in entries] == ["erase-supporter"]
        for entry in entries:
            assert "ada" not in entry.detail.lower()


@pytest.mark.parametrize(
    "path",
    [
        f"/organiser/petitions/{SLUG}/moderate",
        "/organiser/supporters",
        "/organiser/supporters/export",
        "/organiser/supporters/erase",
        "/organiser/signatures/1/hide",
        "/organiser/signatures/1/hide-comment",
        "/organiser/signatures/1/invalidate",
        f"/organiser/petitions/{SLUG}/edit",
        "/organiser/organisers",
        "/organiser/organisers/1/deactivate",
    ],
)
def test_data_care_forms_need_a_csrf_token(app, admin, inbox, path):
    sign_and_confirm(app, inbox, "ada@example.org", comment="Count me in")
    before = snapshot(app)
    # Every field any of these forms needs, so only CSRF can refuse the post.
    fields = {
        "email": "ada@example.org",
        "email_domain": "example.org",
        "confirm": "y",
        "title": "A new title",
        "target": "Someone else",
        "body_markdown": "New text.",
        "goal": "5",
        "state": "closed",
        "role": "admin",
        "password": "a long enough passphrase 42",
    }
    response = admin.post(path, data=fields)
    assert refused_as_forged(response)
    assert snapshot(app) == before


def test_invalidated_signatures_stay_invalidated_after_recount(app, staff, inbox):
    sign_and_confirm(app, inbox, "a@spam.example", "b@fine.org")
    path = f"/organiser/petitions/{SLUG}/moderate"
    data = {"csrf_token": csrf_token(staff, path), "email_domain": "spam.example"}
    data["previewed"] = previewed(staff.post(path, data=data))
    staff.post(path, data={**data, "confirm": "y"})
    app.test_cli_runner().invoke(args=["campaign", "recount"])
    assert count(app.test_client()) == 1
    assert states(app)["a@spam.example"] == SignatureState.INVALIDATED.value


def test_admins_add_and_switch_off_organisers(app, admin, staff):
    assert staff.get("/organiser/organisers").status_code == 403
    csrf = csrf_token(admin, "/organiser/organisers")
    added = admin.post(
        "/organiser/organisers",
        data={
            "csrf_token": csrf,
            "email": "new@example.org",
            "role": "staff",
            "password": "a first password to hand over",
        },
    )
    assert added.status_code == 302
    newcomer = app.test_client()
    log_in(newcomer, "new@example.org", "a first password to hand over")
    assert newcomer.get("/organiser/").status_code == 200
    with app.app_context():
        new_id = find_organiser("new@example.org").id
    admin.post(f"/organiser/organisers/{new_id}/deactivate", data={"csrf_token": csrf})
    assert newcomer.get("/organiser/").status_code == 302  # signed out at once
    refused = log_in(
        app.test_client(), "new@example.org", "a first password to hand over"
    )
    assert refused.status_code == 400


def test_admins_cannot_switch_themselves_off(app, admin):
    with app.app_context():
        own_id = find_organiser("admin@example.org").id
    csrf = csrf_token(admin, "/organiser/organisers")
    admin.post(f"/organiser/organisers/{own_id}/deactivate", data={"csrf_token": csrf})
    assert admin.get("/organiser/").status_code == 200


def joined_from_petition(app, inbox, email: str) -> None:
    """Sign with the mailing-list box ticked, and confirm."""
    client = app.test_client()
    sign(client, email=email, join_list="y")
    link = inbox.link(inbox.to(email)[-1])
    client.get(link.replace("http://campaign.test", ""))


def test_a_data_request_shows_list_membership_and_consents(app, staff, inbox):
    joined_from_petition(app, inbox, "ada@example.org")
    exported = submit(
        staff,
        "/organiser/supporters/export",
        "/organiser/supporters",
        email="ada@example.org",
    )
    listed = json.loads(exported.get_data(as_text=True))["mailing_list"]
    assert listed["state"] == "subscribed"
    [consent] = listed["consents"]
    assert consent["source"] == f"petition:{SLUG}"
    assert (
        consent["wording"]
        == "Also add me to the mailing list: news about all our campaigns"
    )
    assert consent["confirmed_at"]


def test_erasure_takes_the_supporter_off_the_list_too(app, admin, inbox):
    joined_from_petition(app, inbox, "ada@example.org")
    submit(
        admin,
        "/organiser/supporters/erase",
        "/organiser/supporters",
        email="ada@example.org",
    )
    with app.app_context():
        assert mailing.get_subscriber("ada@example.org") is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Consent)) == 0
        assert privacy.subscriber_record("ada@example.org") is None
