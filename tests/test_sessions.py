"""Organiser sessions live on the server: a saved cookie stops working after
sign-out, a password change, a role change or switching the account off, and
sessions expire when idle and after a fixed lifetime."""

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.extensions import db
from campaign.models import now_utc
from campaign.organiser.models import Organiser, OrganiserSession
from campaign.permissions import Role
from tests.helpers import csrf_token, submit
from tests.test_organiser import PASSWORD, add_organiser, log_in


def signed_in(app, email="org@example.org", role=Role.STAFF):
    """A new browser signed in to a new account."""
    add_organiser(app, email, role)
    client = app.test_client()
    assert log_in(client, email).status_code == 302
    return client


def replay(app, client):
    """Another browser carrying a copy of ``client``'s session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def goes_to_sign_in(response) -> bool:
    """The organiser area turned this request away to the sign-in page."""
    return response.status_code == 302 and response.headers["Location"].startswith(
        "/organiser/login"
    )


def age_sessions(app, email="org@example.org", **ago):
    """Move an account's sessions back in time (``created_at``/``last_seen_at``)."""
    with app.app_context():
        organiser = db.session.scalar(sa.select(Organiser).filter_by(email=email))
        values = {column: now_utc() - delta for column, delta in ago.items()}
        db.session.execute(
            sa.update(OrganiserSession)
            .filter_by(organiser_id=organiser.id)
            .values(**values)
        )
        db.session.commit()


def session_rows(app) -> list[OrganiserSession]:
    """Every session row."""
    with app.app_context():
        return list(db.session.scalars(sa.select(OrganiserSession)))


def test_a_saved_cookie_is_refused_after_sign_out(app):
    browser = signed_in(app)
    saved = replay(app, browser)
    assert saved.get("/organiser/").status_code == 200  # the copy works...
    token = csrf_token(browser, "/organiser/")
    browser.post("/organiser/logout", data={"csrf_token": token})
    assert goes_to_sign_in(saved.get("/organiser/"))  # ...until sign-out
    assert session_rows(app) == []


def test_the_database_keeps_only_a_hash_of_the_token(app):
    browser = signed_in(app)
    cookie = browser.get_cookie("session").value
    data = app.session_interface.get_signing_serializer(app).loads(cookie)
    token = data["_user_id"]
    (row,) = session_rows(app)
    assert len(token) >= 40
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_a_password_change_ends_the_other_sessions(app):
    browser = signed_in(app)
    saved = replay(app, browser)
    elsewhere = app.test_client()
    log_in(elsewhere)
    new = "an entirely new passphrase"
    response = submit(
        browser, "/organiser/password", current=PASSWORD, new=new, repeat=new
    )
    assert response.status_code == 302
    assert browser.get("/organiser/").status_code == 200
    assert saved.get("/organiser/").status_code == 200  # same session as browser
    assert goes_to_sign_in(elsewhere.get("/organiser/"))
    assert len(session_rows(app)) == 1


def account_id(app, email) -> int:
    """The id of an organiser account."""
    with app.app_context():
        return db.session.scalar(sa.select(Organiser.id).filter_by(email=email))


def test_a_role_change_ends_the_accounts_sessions(app):
    admin = signed_in(app, "boss@example.org", Role.ADMIN)
    staff = signed_in(app, "org@example.org")
    saved = replay(app, staff)
    target = account_id(app, "org@example.org")
    page = admin.get("/organiser/organisers").get_data(as_text=True)
    assert f'name="account-{target}-role"' in page
    token = csrf_token(admin, "/organiser/organisers")
    response = admin.post(
        f"/organiser/organisers/{target}/role",
        data={
            f"account-{target}-csrf_token": token,
            f"account-{target}-role": "editor",
        },
    )
    assert response.status_code == 302
    assert goes_to_sign_in(staff.get("/organiser/"))
    assert goes_to_sign_in(saved.get("/organiser/"))
    assert admin.get("/organiser/").status_code == 200
    with app.app_context():
        organiser = db.session.get(Organiser, target)
        assert organiser.role is Role.EDITOR
        entry = db.session.scalars(
            sa.select(AuditEntry).filter_by(action="change-role")
        ).one()
        assert entry.detail == "org@example.org: staff -> editor"
        assert entry.organiser.email == "boss@example.org"


def test_only_admins_change_roles_and_never_their_own(app):
    admin = signed_in(app, "boss@example.org", Role.ADMIN)
    staff = signed_in(app, "org@example.org")
    boss = account_id(app, "boss@example.org")
    token = csrf_token(staff, "/organiser/")
    fields = {f"account-{boss}-csrf_token": token, f"account-{boss}-role": "staff"}
    assert (
        staff.post(f"/organiser/organisers/{boss}/role", data=fields).status_code == 403
    )
    fields[f"account-{boss}-csrf_token"] = csrf_token(admin, "/organiser/organisers")
    response = admin.post(f"/organiser/organisers/{boss}/role", data=fields)
    assert response.status_code == 302
    page = admin.get("/organiser/organisers").get_data(as_text=True)
    assert "You cannot change your own role." in page
    with app.app_context():
        assert db.session.get(Organiser, boss).role is Role.ADMIN


def test_a_role_change_needs_a_csrf_token_and_a_real_role(app):
    admin = signed_in(app, "boss@example.org", Role.ADMIN)
    add_organiser(app)
    target = account_id(app, "org@example.org")
    url = f"/organiser/organisers/{target}/role"
    assert admin.post(url, data={f"account-{target}-role": "admin"}).status_code == 400
    token = csrf_token(admin, "/organiser/organisers")
    bad = {f"account-{target}-csrf_token": token, f"account-{target}-role": "owner"}
    assert admin.post(url, data=bad).status_code == 400
    with app.app_context():
        assert db.session.get(Organiser, target).role is Role.STAFF


def test_switching_an_account_off_ends_its_sessions(app):
    admin = signed_in(app, "boss@example.org", Role.ADMIN)
    staff = signed_in(app, "org@example.org")
    saved = replay(app, staff)
    target = account_id(app, "org@example.org")
    token = csrf_token(admin, "/organiser/organisers")
    admin.post(f"/organiser/organisers/{target}/deactivate", data={"csrf_token": token})
    assert goes_to_sign_in(saved.get("/organiser/"))
    assert goes_to_sign_in(staff.get("/organiser/"))
    assert {row.organiser_id for row in session_rows(app)} == {
        account_id(app, "boss@example.org")
    }
    assert log_in(app.test_client()).status_code == 400


@pytest.mark.parametrize(
    ("ago", "open_"),
    [
        ({"last_seen_at": timedelta(minutes=59)}, True),
        ({"last_seen_at": timedelta(minutes=61)}, False),
        ({"created_at": timedelta(hours=11, minutes=59)}, True),
        ({"created_at": timedelta(hours=12, minutes=1)}, False),
    ],
)
def test_sessions_expire_when_idle_and_after_twelve_hours(app, ago, open_):
    browser = signed_in(app)
    age_sessions(app, **ago)
    response = browser.get("/organiser/")
    assert (response.status_code == 200) is open_
    assert goes_to_sign_in(response) is not open_
    assert len(session_rows(app)) == (1 if open_ else 0)


def test_the_lifetimes_are_configurable(app_factory):
    app = app_factory(ORGANISER_SESSION_IDLE_MINUTES=5, ORGANISER_SESSION_MAX_HOURS=1)
    browser = signed_in(app)
    age_sessions(app, last_seen_at=timedelta(minutes=4))
    assert browser.get("/organiser/").status_code == 200
    age_sessions(app, last_seen_at=timedelta(minutes=6))
    assert goes_to_sign_in(browser.get("/organiser/"))
    browser = app.test_client()
    log_in(browser)
    age_sessions(app, created_at=timedelta(minutes=61))
    assert goes_to_sign_in(browser.get("/organiser/"))


def test_activity_is_recorded_at_most_once_a_minute(app):
    browser = signed_in(app)
    age_sessions(app, last_seen_at=timedelta(seconds=30))
    (before,) = session_rows(app)
    browser.get("/organiser/")
    (after,) = session_rows(app)
    assert after.last_seen_at == before.last_seen_at
    age_sessions(app, last_seen_at=timedelta(seconds=90))
    browser.get("/organiser/")
    (touched,) = session_rows(app)
    assert now_utc() - touched.last_seen_at < timedelta(seconds=5)


def test_expired_sessions_are_deleted_at_sign_in(app):
    signed_in(app)
    signed_in(app, "other@example.org")
    age_sessions(app, last_seen_at=timedelta(hours=2))
    assert len(session_rows(app)) == 2
    log_in(app.test_client(), "other@example.org")
    rows = session_rows(app)
    assert len(rows) == 2  # other@'s two; org@'s expired one is gone
    assert account_id(app, "org@example.org") not in {r.organiser_id for r in rows}
