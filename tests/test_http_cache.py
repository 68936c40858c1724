"""Public pages a proxy or CDN can cache: no cookie, Cache-Control, Vary, ETag."""

import re

import pytest

from campaign.permissions import Role
from tests.helpers import SLUG, petition_renders, sign
from tests.test_organiser import add_organiser, edit_petition, log_in

PUBLIC_PAGES = [
    "/",
    f"/petitions/{SLUG}",
    f"/petitions/{SLUG}/check-email",
    f"/petitions/{SLUG}/thanks",
    f"/petitions/{SLUG}/count.json",
    "/join",
    "/join/check-email",
    "/join/welcome",
    "/donate",
    "/donate/thanks",
    "/donate/cancelled",
]


def path_of(url: str) -> str:
    """The path of an absolute URL from an email."""
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_first_visit_gets_a_shared_copy_and_no_cookie(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert 'name="csrf_token"' not in response.get_data(as_text=True)
    cache_control = response.cache_control
    assert cache_control.public and not cache_control.private
    assert cache_control.max_age == 10
    assert cache_control.stale_while_revalidate == 60
    assert "Cookie" in response.vary
    assert response.get_etag()[0]


def test_the_cache_lifetimes_are_settings(app_factory):
    app = app_factory(PUBLIC_MAX_AGE=30, PUBLIC_STALE_WHILE_REVALIDATE=300)
    cache_control = app.test_client().get("/").cache_control
    assert (cache_control.max_age, cache_control.stale_while_revalidate) == (30, 300)


def test_pages_do_not_vary_on_accept_language(client):
    # The URL names the language (/fa/…): one URL is one page for everyone.
    for path in ("/", "/fa/", f"/ps/petitions/{SLUG}"):
        assert "Accept-Language" not in client.get(path).vary


@pytest.mark.parametrize("path", ["/", f"/petitions/{SLUG}"])
def test_an_unchanged_page_is_a_304(client, path):
    etag = client.get(path).headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_the_etag_changes_when_a_signature_is_confirmed(client, inbox):
    paths = ["/", f"/petitions/{SLUG}", f"/petitions/{SLUG}/count.json"]
    before = {path: client.get(path).headers["ETag"] for path in paths}
    assert sign(client).status_code == 303
    # A pending signature is not counted: nothing public has moved yet.
    assert {path: client.get(path).headers["ETag"] for path in paths} == before
    confirmer = client.application.test_client()
    confirmer.get(path_of(inbox.link(inbox.messages[0])))
    for path in paths:
        answer = client.get(path, headers={"If-None-Match": before[path]})
        assert answer.status_code == 200
        assert answer.headers["ETag"] != before[path]


def test_the_etag_changes_when_an_organiser_edits(app):
    visitor = app.test_client()
    path = f"/petitions/{SLUG}"
    before = visitor.get(path).headers["ETag"]
    editor = app.test_client()
    add_organiser(app, "editor@example.org", Role.EDITOR)
    assert log_in(editor, "editor@example.org").status_code == 302
    edited = edit_petition(editor, state="open")
    assert edited.status_code == 302
    answer = visitor.get(path, headers={"If-None-Match": before})
    assert answer.status_code == 200
    assert "A sharper title" in answer.get_data(as_text=True)
    assert answer.headers["ETag"] != before


def test_a_signed_in_organiser_gets_a_private_page(app, client):
    add_organiser(app)
    assert log_in(client).status_code == 302
    response = client.get("/")
    assert response.cache_control.private and response.cache_control.no_store
    assert not response.cache_control.public
    assert "ETag" not in response.headers


def test_a_page_showing_a_flash_message_is_private(client):
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "A note for you alone")]
    response = client.get("/join")
    assert "A note for you alone" in response.get_data(as_text=True)
    assert response.cache_control.no_store and response.cache_control.private


def test_the_thanks_page_after_confirming_is_the_same_for_everyone(client, inbox):
    """Opening a confirmation link puts nothing of the signer in the session or
    the page, so the thank-you page a shared cache may keep names no one."""
    sign(client, name="Zarghona Ahmadi", email="zarghona@example.org")
    thanks = client.get(path_of(inbox.link(inbox.messages[0])), follow_redirects=True)
    assert thanks.request.path == f"/petitions/{SLUG}/thanks"
    page = thanks.get_data(as_text=True)
    assert "Zarghona" not in page and "zarghona@" not in page
    with client.session_transaction() as session:
        assert not session.get("supporter")


def test_a_page_is_rendered_once_per_few_seconds_and_dropped_on_a_change(
    app_factory, inbox, monkeypatch
):
    """With a real cache, first visits share one rendering of the page until
    the count or the content changes (then the next visit renders afresh)."""
    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30)
    renders = petition_renders(monkeypatch)
    visitor = app.test_client()
    path = f"/petitions/{SLUG}"
    first = visitor.get(path).get_data(as_text=True)
    assert visitor.get(path).get_data(as_text=True) == first
    assert len(renders) == 1
    sign(app.test_client())
    app.test_client().get(path_of(inbox.link(inbox.messages[0])))
    assert visitor.get(path).get_data(as_text=True) != first  # the count moved
    assert len(renders) == 2


def test_made_up_query_strings_get_no_copy_of_their_own(app_factory, monkeypatch):
    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30)
    renders = petition_renders(monkeypatch)
    visitor = app.test_client()
    for _ in range(2):  # not kept: a copy per query string would fill the cache
        assert visitor.get(f"/petitions/{SLUG}?x=1").status_code == 200
    assert len(renders) == 2
    for _ in range(2):  # the plain URL is kept
        assert visitor.get(f"/petitions/{SLUG}").status_code == 200
    assert len(renders) == 3
