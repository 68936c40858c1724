"""Two-factor sign-in with TOTP: enrolment with an inline QR code, a code step
after the password, one-time recovery codes, turning it off, and an admin
setting that makes every organiser enrol."""

import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.extensions import db
from campaign.organiser.models import Organiser, RecoveryCode
from campaign.permissions import Role
from tests.helpers import csrf_token, submit
from tests.test_organiser import add_organiser, log_in
from tests.test_sessions import goes_to_sign_in, signed_in

SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')
RECOVERY = re.compile(r"<li><code>([A-Z2-7-]{19})</code></li>")


def code(secret: str, steps_ahead: int = 0) -> str:
    """A real TOTP code, as the organiser's app shows it (or 30 s later)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def enrol(client) -> tuple[str, list[str]]:
    """Turn two-factor on through the pages; the secret and recovery codes."""
    secret = SECRET.search(client.get("/organiser/two-factor").get_data(as_text=True))
    response = submit(
        client,
        "/organiser/two-factor/enable",
        "/organiser/two-factor",
        code=code(secret.group(1)),
    )
    assert response.status_code == 200
    return secret.group(1), RECOVERY.findall(response.get_data(as_text=True))


def send_code(client, value: str):
    """The second sign-in step."""
    return submit(client, "/organiser/login/code", "/organiser/login", code=value)


@pytest.fixture
def enrolled(app):
    """An organiser with two-factor on: (secret, recovery codes)."""
    return enrol(signed_in(app))


def test_enrolment_shows_the_secret_and_an_inline_qr_code(app):
    client = signed_in(app)
    page = client.get("/organiser/two-factor")
    html = page.get_data(as_text=True)
    secret = SECRET.search(html).group(1)
    assert len(secret) == 32
    assert "<svg" in html and "<img" not in html
    assert not re.search(r'(src|href)="https?://', html)
    assert "no-store" in page.headers["Cache-Control"]
    # A reload shows the same secret until it is confirmed.
    again = client.get("/organiser/two-factor").get_data(as_text=True)
    assert SECRET.search(again).group(1) == secret


def test_enrolment_needs_a_right_code(app):
    client = signed_in(app)
    secret = SECRET.search(client.get("/organiser/two-factor").get_data(as_text=True))
    wrong = str((int(code(secret.group(1))) + 1) % 1_000_000).zfill(6)
    response = submit(
        client, "/organiser/two-factor/enable", "/organiser/two-factor", code=wrong
    )
    assert response.status_code == 400
    assert "That code is not right" in response.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalar(sa.select(Organiser)).two_factor_on


def test_enrolment_gives_ten_recovery_codes_stored_hashed(app, enrolled):
    secret, codes = enrolled
    assert len(codes) == 10 == len(set(codes))
    with app.app_context():
        organiser = db.session.scalar(sa.select(Organiser))
        assert organiser.two_factor_on and organiser.totp_secret == secret
        stored = [r.code_hash for r in db.session.scalars(sa.select(RecoveryCode))]
        assert len(stored) == 10
        raw = {c.replace("-", "") for c in codes} | set(codes)
        assert not set(stored) & raw
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.action == "two-factor-on"


def test_sign_in_then_asks_for_a_code(app, enrolled):
    secret, _ = enrolled
    client = app.test_client()
    response = log_in(client)
    assert response.headers["Location"] == "/organiser/login/code"
    # Half signed in: nothing else opens.
    for path in ["/organiser/", "/organiser/supporters", "/organiser/two-factor"]:
        assert goes_to_sign_in(client.get(path))
    response = send_code(client, code(secret, steps_ahead=1))
    assert response.headers["Location"] == "/organiser/"
    assert client.get("/organiser/").status_code == 200


def test_a_wrong_or_reused_code_is_refused(app, enrolled):
    secret, _ = enrolled
    client = app.test_client()
    log_in(client)
    assert (
        send_code(
            client, "000000" if code(secret) != "000000" else "111111"
        ).status_code
        == 400
    )
    accepted = code(secret, steps_ahead=1)
    assert send_code(client, accepted).status_code == 302
    other = app.test_client()
    log_in(other)
    response = send_code(other, accepted)
    assert response.status_code == 400
    assert goes_to_sign_in(other.get("/organiser/"))


def test_the_code_step_expires_quickly(app, enrolled):
    secret, _ = enrolled
    client = app.test_client()
    log_in(client)
    with client.session_transaction() as session:
        state = session["pending_sign_in"]
        state["at"] -= 301
        session["pending_sign_in"] = state
    response = send_code(client, code(secret, steps_ahead=1))
    assert goes_to_sign_in(response)
    assert goes_to_sign_in(client.get("/organiser/"))


def test_a_recovery_code_works_once(app, enrolled):
    _, codes = enrolled
    client = app.test_client()
    log_in(client)
    assert send_code(client, codes[3].lower().replace("-", " ")).status_code == 302
    assert client.get("/organiser/").status_code == 200
    again = app.test_client()
    log_in(again)
    assert send_code(again, codes[3]).status_code == 400
    page = client.get("/organiser/two-factor").get_data(as_text=True)
    assert "You have 9 unused recovery codes." in page


def test_turning_it_off_needs_a_code(app):
    client = signed_in(app)
    secret, _ = enrol(client)
    page = "/organiser/two-factor"
    wrong = submit(client, "/organiser/two-factor/disable", page, code="123456")
    assert wrong.status_code == 400 or code(secret) == "123456"
    right = submit(client, "/organiser/two-factor/disable", page, code=code(secret, 1))
    assert right.status_code == 302
    with app.app_context():
        organiser = db.session.scalar(sa.select(Organiser))
        assert not organiser.two_factor_on and organiser.totp_secret is None
        assert db.session.scalars(sa.select(RecoveryCode)).all() == []
    assert log_in(app.test_client()).headers["Location"] == "/organiser/"


def test_codes_are_rate_limited_like_passwords(app_factory):
    app = app_factory(LOGIN_RATE_LIMIT="3 per minute")
    secret, _ = enrol(signed_in(app))
    client = app.test_client()
    log_in(client)
    right = code(secret, steps_ahead=1)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(3):
        assert send_code(client, wrong).status_code == 400
    assert send_code(client, right).status_code == 429


def require_two_factor(app, on: bool = True):
    """An admin turns the "require two-factor" setting on (or off)."""
    admin = signed_in(app, "boss@example.org", Role.ADMIN)
    fields = {"require_two_factor": "y"} if on else {}
    response = submit(admin, "/organiser/settings", **fields)
    assert response.status_code == 302
    return admin


def test_when_required_an_organiser_must_enrol_before_anything_else(app):
    admin = require_two_factor(app)
    assert admin.get("/organiser/").headers["Location"] == "/organiser/two-factor"
    staff = signed_in(app)
    for path in [
        "/organiser/",
        "/organiser/supporters",
        "/organiser/password",
        "/organiser/broadcasts/",
    ]:
        assert staff.get(path).headers["Location"] == "/organiser/two-factor"
    page = staff.get("/organiser/two-factor").get_data(as_text=True)
    assert "Your organisation requires two-factor sign-in." in page
    enrol(staff)
    assert staff.get("/organiser/").status_code == 200
    refused = submit(
        staff, "/organiser/two-factor/disable", "/organiser/two-factor", code="x"
    )
    assert refused.headers["Location"] == "/organiser/two-factor"
    with app.app_context():
        assert db.session.scalar(
            sa.select(Organiser).filter_by(email="org@example.org")
        ).two_factor_on
        entry = db.session.scalars(
            sa.select(AuditEntry).filter_by(action="change-setting")
        ).one()
        assert entry.detail == "require two-factor: on"


def test_only_admins_change_the_settings(app):
    staff = signed_in(app)
    assert staff.get("/organiser/settings").status_code == 403
    token = csrf_token(staff, "/organiser/")
    response = staff.post(
        "/organiser/settings", data={"csrf_token": token, "require_two_factor": "y"}
    )
    assert response.status_code == 403
    assert staff.get("/organiser/").status_code == 200


def test_the_new_pages_need_a_signed_in_organiser(client):
    for path in ["/organiser/two-factor", "/organiser/settings"]:
        assert goes_to_sign_in(client.get(path))
    add_organiser_page = client.get("/organiser/login/code")
    assert goes_to_sign_in(add_organiser_page)


def test_the_two_factor_forms_need_a_csrf_token(app, enrolled):
    secret, _ = enrolled
    client = app.test_client()
    log_in(client)
    response = client.post("/organiser/login/code", data={"code": code(secret, 1)})
    assert response.status_code == 400
    assert goes_to_sign_in(client.get("/organiser/"))


def test_an_account_can_be_added_by_role(app):
    admin = signed_in(app, "boss@example.org", Role.ADMIN)
    response = submit(
        admin,
        "/organiser/organisers",
        email="ed@example.org",
        role="editor",
        password="correct horse battery staple",
    )
    assert response.status_code == 302
    with app.app_context():
        added = db.session.scalar(
            sa.select(Organiser).filter_by(email="ed@example.org")
        )
        assert added.role is Role.EDITOR
    add_organiser(app, "x@example.org", Role.EDITOR)
