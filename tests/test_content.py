"""Organiser content is safe on every page and in every email, and it fits."""

import re
from html.parser import HTMLParser

import pytest

from campaign.permissions import Role
from tests.helpers import SLUG
from tests.test_broadcasts import add_subscribers, send_now, write
from tests.test_organiser import add_organiser, log_in
from tests.test_organiser import edit_petition as organiser_edit

HOSTILE = (
    "## Our demand\n\n"
    "We ask *every* government to [read the report](https://example.org/report).\n\n"
    "- no recognition\n- no exceptions\n\n"
    "<script>alert('script')</script>\n\n"
    "<img src=x onerror=alert('handler')>\n\n"
    '<img src="/static/x.png" onerror="alert(\'quoted\')">\n\n'
    '<div><a href="javascript:alert(1)" onmouseover="alert(2)">raw</a></div>\n\n'
    "<p onclick=\"alert('click')\">Click me</p>\n\n"
    "[a trap](javascript:alert('url')) and "
    "<a href=\"JaVaScRiPt:alert('mixed')\">another</a>\n\n"
    '<iframe src="https://evil.example"></iframe>\n'
)
# Dari: "We want the rights of Afghan women" (ZWNJ inside می‌خواهیم).
DARI_WORDS = "ما حقوق زنان افغانستان را می\u200cخواهیم و"


@pytest.fixture
def admin(app, client):
    """A client signed in as an admin organiser (allowed everything)."""
    add_organiser(app, role=Role.ADMIN)
    assert log_in(client).status_code == 302
    return client


def edit_petition(client, body: str):
    """Save the petition with a new text, as an organiser would."""
    return organiser_edit(
        client, title="No recognition", body_markdown=body, state="open"
    )


class Elements(HTMLParser):
    """Every element of a page with its attributes, as a browser would see them."""

    def __init__(self, html: str):
        """Parse the page."""
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        """Keep each start tag."""
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def assert_harmless(html: str) -> None:
    """No script (but the site's own file), event handler or javascript: URL."""
    for tag, attrs in Elements(html).found:
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
        assert tag not in ("iframe", "object", "embed"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert not value.strip().lower().startswith("javascript:"), (tag, value)
    assert "alert('script')" not in html  # the script's text is gone too


def assert_markdown_kept(html: str) -> None:
    """Headings, emphasis, links and lists still render."""
    assert "<h2>Our demand</h2>" in html
    assert "<em>every</em>" in html
    assert '<a href="https://example.org/report" rel="noopener noreferrer">' in html
    assert "<li>no recognition</li>" in html and "<li>no exceptions</li>" in html


def test_hostile_markdown_never_reaches_the_public_pages(app, admin):
    assert edit_petition(admin, HOSTILE).status_code == 302
    visitor = app.test_client()
    for path in (f"/petitions/{SLUG}", "/"):
        html = visitor.get(path).get_data(as_text=True)
        assert_harmless(html)
        assert_markdown_kept(html)
    printout = admin.get(f"/organiser/petitions/{SLUG}/print").get_data(as_text=True)
    assert_harmless(printout)


def test_hostile_markdown_never_reaches_an_email(app, admin, inbox):
    add_subscribers(app, ["grace@example.org"])
    broadcast_id = write(admin, body_markdown=HOSTILE)
    preview = admin.get(f"/organiser/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert_harmless(preview)
    assert send_now(admin, broadcast_id).status_code == 302
    [message] = inbox.to("grace@example.org")
    html = message.get_body(("html",)).get_content()
    assert_harmless(html)
    assert_markdown_kept(html)


def test_an_18000_character_petition_text_saves(app, admin):
    body = (DARI_WORDS * 1000)[:18_000]
    response = edit_petition(admin, body)
    assert response.status_code == 302
    page = app.test_client().get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert body[:2000] in page


def test_a_700_word_dari_broadcast_saves(app, admin):
    body = " ".join([DARI_WORDS] * 100)
    assert len(body.split()) == 700
    broadcast_id = write(admin, subject="خبر تازه", body_markdown=body)
    page = admin.get(f"/organiser/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert DARI_WORDS in page


def test_a_petition_text_over_the_field_limit_names_the_field_and_limit(admin):
    response = edit_petition(admin, "x" * 20_001)
    assert response.status_code == 400
    assert "The petition text can be at most 20,000 characters." in (
        response.get_data(as_text=True)
    )


def test_an_organiser_body_over_the_limit_gets_a_413_that_names_it(app, admin):
    response = edit_petition(admin, "x" * 600_000)
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "at most 512 KB" in text and "comment" not in text


def test_public_forms_keep_the_small_limit(app, client):
    big = "a=" + "x" * 20_000
    response = client.post(
        f"/petitions/{SLUG}/sign",
        data=big,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert re.search(r"at most 16 KB", response.get_data(as_text=True))
    # The same body to an organiser page, signed out, is under its limit.
    login = client.post(
        "/organiser/login",
        data=big,
        content_type="application/x-www-form-urlencoded",
    )
    assert login.status_code == 400  # no CSRF token, but read, not refused
