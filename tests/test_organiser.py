"""The organiser area: sign-in, access control, dashboard, petition editing."""

import re

import pytest
import sqlalchemy as sa

from campaign.config import ProductionConfig
from campaign.extensions import db
from campaign.organiser.models import Organiser
from campaign.organiser.services import create_organiser
from campaign.permissions import Role
from tests.helpers import SLUG, csrf_token, refused_as_forged, sign, snapshot, submit

PASSWORD = "correct horse battery staple"
PAGES = [
    "/organiser/",
    "/organiser/password",
    f"/organiser/petitions/{SLUG}",
    f"/organiser/petitions/{SLUG}/edit",
    f"/organiser/petitions/{SLUG}/moderate",
    f"/organiser/petitions/{SLUG}/print",
    "/organiser/supporters",
    "/organiser/audit",
    "/organiser/organisers",
]


def add_organiser(app, email="org@example.org", role=Role.STAFF) -> str:
    """Create an organiser account; return its email."""
    with app.app_context():
        create_organiser(email, PASSWORD, role)
    return email


def log_in(client, email="org@example.org", password=PASSWORD, headers=None):
    """Sign in through the form, as an organiser would."""
    token = csrf_token(client, "/organiser/login")
    return client.post(
        "/organiser/login",
        data={"csrf_token": token, "email": email, "password": password},
        headers=headers,
    )


# What an editor changes in the petition tests: every English field and the goal.
SHARPER = {
    "title": "A sharper title",
    "target": "Every government",
    "body_markdown": "We ask **you**.",
    "goal": "50000",
    "goal_mode": "fixed",
    "story_id": "1",
}


def edit_petition(client, **changes):
    """Send the petition's edit form as an editor would (SHARPER, then changes)."""
    fields = {**SHARPER, **changes}
    return submit(client, f"/organiser/petitions/{SLUG}/edit", **fields)


@pytest.fixture
def staff(app, client):
    """A client signed in as a staff organiser."""
    add_organiser(app)
    assert log_in(client).status_code == 302
    return client


@pytest.fixture
def editor(app, client):
    """A client signed in as an editor."""
    add_organiser(app, "editor@example.org", Role.EDITOR)
    assert log_in(client, "editor@example.org").status_code == 302
    return client


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/organiser/login?next=")


@pytest.mark.parametrize(
    "path", [*PAGES, f"/organiser/petitions/{SLUG}/signatures.csv"]
)
def test_anonymous_data_requests_get_401(client, path):
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 401


def test_sign_in_leads_to_the_dashboard(app, client):
    add_organiser(app)
    response = log_in(client)
    assert response.headers["Location"] == "/organiser/"
    page = client.get("/organiser/")
    assert page.status_code == 200
    assert "No recognition for the Taliban" in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("email", "password"),
    [("org@example.org", "wrong password!!"), ("nobody@example.org", PASSWORD)],
)
def test_unknown_email_and_wrong_password_look_the_same(app, client, email, password):
    add_organiser(app)
    response = log_in(client, email, password)
    assert response.status_code == 400
    assert "That email and password don&#39;t match." in response.get_data(
        as_text=True
    ) or "That email and password don't match." in response.get_data(as_text=True)
    assert client.get("/organiser/").status_code == 302


def test_sign_in_only_returns_to_organiser_pages(app, client):
    add_organiser(app)
    token = csrf_token(client, "/organiser/login")
    response = client.post(
        "/organiser/login?next=https://evil.example/",
        data={"csrf_token": token, "email": "org@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/organiser/"


def test_sign_in_starts_a_fresh_session(app, client):
    add_organiser(app)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    log_in(client)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_session_cookie_flags_in_production(app_factory):
    assert ProductionConfig.SESSION_COOKIE_SECURE
    app = app_factory(SESSION_COOKIE_SECURE=True)
    add_organiser(app)
    client = app.test_client()
    response = log_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_out(staff):
    token = csrf_token(staff, "/organiser/")
    response = staff.post("/organiser/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/organiser/login"
    assert staff.get("/organiser/").status_code == 302


def test_sign_in_needs_a_csrf_token(app, client):
    add_organiser(app)
    before = snapshot(app)
    response = client.post(
        "/organiser/login", data={"email": "org@example.org", "password": PASSWORD}
    )
    assert refused_as_forged(response)
    assert snapshot(app) == before
    assert client.get("/organiser/").status_code == 302  # still signed out


def test_sign_out_needs_a_csrf_token(app, staff):
    before = snapshot(app)
    assert refused_as_forged(staff.post("/organiser/logout"))
    assert snapshot(app) == before
    assert staff.get("/organiser/").status_code == 200  # still signed in


def test_changing_the_password_needs_a_csrf_token(app, staff):
    new = "another long passphrase 42"
    before = snapshot(app)
    response = staff.post(
        "/organiser/password", data={"current": PASSWORD, "new": new, "repeat": new}
    )
    assert refused_as_forged(response)
    assert snapshot(app) == before
    assert log_in(app.test_client()).status_code == 302  # the old one still works


def test_changing_the_password_ends_other_sessions(app, staff):
    other = app.test_client()
    log_in(other)
    token = csrf_token(staff, "/organiser/password")
    new = "an entirely new passphrase"
    response = staff.post(
        "/organiser/password",
        data={"csrf_token": token, "current": PASSWORD, "new": new, "repeat": new},
    )
    assert response.headers["Location"] == "/organiser/"
    assert staff.get("/organiser/").status_code == 200
    assert other.get("/organiser/").status_code == 302
    assert log_in(app.test_client(), password=new).status_code == 302


def test_changing_the_password_needs_the_current_one(staff):
    token = csrf_token(staff, "/organiser/password")
    new = "an entirely new passphrase"
    response = staff.post(
        "/organiser/password",
        data={
            "csrf_token": token,
            "current": "not it at all",
            "new": new,
            "repeat": new,
        },
    )
    assert response.status_code == 400
    assert "Your current password is not right." in response.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_account(app_factory):
    app = app_factory(LOGIN_RATE_LIMIT="3 per minute", PROXY_FIX_X_FOR=1)
    add_organiser(app)
    client = app.test_client()
    for number in range(3):
        address = {"X-Forwarded-For": f"198.51.100.{number}"}
        assert (
            log_in(client, password="wrong guess...", headers=address).status_code
            == 400
        )
    fourth = log_in(client, headers={"X-Forwarded-For": "198.51.100.9"})
    # Even the right password, for a while, from a browser never signed in here
    # (test_sign_in_limits: the organiser's own browser is spared).
    assert fourth.status_code == 429


def test_sign_in_is_rate_limited_per_address(app_factory):
    app = app_factory(LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for number in range(3):
        log_in(client, email=f"guess{number}@example.org")
    assert log_in(client, email="another@example.org").status_code == 429


def test_dashboard_shows_how_the_petition_is_doing(app, staff, inbox):
    public = app.test_client()
    sign(public, email="a@example.org", country="FR", join_list="y")
    sign(public, email="b@example.org", country="FR")
    sign(public, email="c@example.org", country="AF")
    for address in ["a@example.org", "b@example.org"]:
        link = re.sub(r"^https?://[^/]+", "", inbox.link(inbox.to(address)[0]))
        public.get(link)
    html = staff.get(f"/organiser/petitions/{SLUG}").get_data(as_text=True)
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert figures["Confirmed"] == "2"
    assert figures["Pending"] == "1"
    assert figures["Confirmation rate"] == "67%"
    assert figures["Joined the list"] == "1"
    assert "<td>France</td><td>2</td>" in html
    assert html.count("<svg") == 2 and html.count("<rect") == 30 + 48
    assert html.count('height="100.0"') == 2  # today and this hour are the peaks
    assert "Ada Lovelace" in html  # latest signatures, for organisers only
    # States in the dashboard's words, never their codes.
    assert "<td>Confirmed</td>" in html and "<td>Pending</td>" in html
    assert ">validated<" not in html and ">pending<" not in html


def test_editing_the_petition_changes_the_public_page(app, editor):
    response = edit_petition(editor)
    assert response.status_code == 302
    public = app.test_client().get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "A sharper title" in public and "<strong>you</strong>" in public
    assert 'max="50000"' in public


def test_an_edit_shows_at_once_though_public_pages_are_cached(app_factory):
    """Public pages keep the petition in the cache; an organiser's edit drops
    it, so / and the petition page show the change on the next view."""
    app = app_factory(CACHE_TYPE="SimpleCache")
    public, staff = app.test_client(), app.test_client()
    for path in ["/", f"/petitions/{SLUG}"]:
        assert "A sharper title" not in public.get(path).get_data(as_text=True)
    add_organiser(app, "editor@example.org", Role.EDITOR)
    assert log_in(staff, "editor@example.org").status_code == 302
    response = edit_petition(staff)
    assert response.status_code == 302
    for path in ["/", f"/petitions/{SLUG}"]:
        html = public.get(path).get_data(as_text=True)
        assert "A sharper title" in html


def test_editing_refuses_bad_values(editor):
    response = submit(
        editor,
        f"/organiser/petitions/{SLUG}/edit",
        title="",
        target="x",
        body_markdown="y",
        goal="0",
        goal_mode="fixed",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Give the petition a title." in html
    assert "Set a goal" in html


def test_create_organiser_asks_for_the_password(app, runner):
    result = runner.invoke(
        args=["campaign", "create-organiser", "Boss@Example.org", "--role", "admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with app.app_context():
        organiser = db.session.scalars(sa.select(Organiser)).one()
        assert organiser.email == "boss@example.org"
        assert organiser.role is Role.ADMIN
        assert organiser.password_hash.startswith("scrypt:")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("short@example.org", "tooshort", "Use at least 12 characters."),
        ("org@example.org", PASSWORD, "There is already an organiser"),
    ],
)
def test_create_organiser_refuses_bad_accounts(app, runner, email, password, message):
    add_organiser(app)
    result = runner.invoke(
        args=["campaign", "create-organiser", email],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 1
    assert message in result.output
