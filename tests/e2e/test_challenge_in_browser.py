"""Past the signing limit, the vendored ALTCHA widget solves its challenge in
a real browser under the site's CSP, and the signature goes through."""

import pytest
from playwright.sync_api import Page, expect

from campaign.petition.models import SignatureState
from tests.e2e.test_accessibility import violations
from tests.e2e.test_sign_in_browser import elsewhere, fill_sign_form
from tests.helpers import SLUG
from tests.test_petition import signatures


@pytest.fixture
def live_config() -> dict:
    """One signature a minute per address; a quick challenge."""
    return {"SIGN_RATE_LIMIT": "1 per minute", "ALTCHA_MAX_NUMBER": 20_000}


def test_the_widget_solves_the_challenge_under_the_csp(
    page: Page, live_server, inbox, browser_log
):
    """A second signer from the same address solves the challenge and signs."""
    page.goto(f"{live_server.url}/petitions/{SLUG}")
    fill_sign_form(page, "first@example.org")
    page.locator("form.sign-form").get_by_role("button", name="Sign").click()
    expect(page).to_have_url(f"{live_server.url}/petitions/{SLUG}/check-email")

    page.goto(f"{live_server.url}/petitions/{SLUG}")
    fill_sign_form(page, "second@example.org")
    page.locator("form.sign-form").get_by_role("button", name="Sign").click()
    form = page.locator("form.sign-form")
    expect(form.get_by_role("alert")).to_contain_text("from your connection")
    # The page kept what was typed, and the widget solves on its own.
    expect(form.get_by_label("Email", exact=True)).to_have_value("second@example.org")
    expect(form.get_by_text("turned off")).to_be_hidden()  # scripts do run
    payload = form.locator("input[name=altcha]")
    expect(payload).to_have_count(1)
    expect(payload).not_to_have_value("", timeout=30_000)
    expect(form.locator("altcha-widget")).to_contain_text("you can send the form")
    assert violations(page) == []  # the widget, as solved, in the page
    form.get_by_role("button", name="Sign the petition").click()
    expect(page).to_have_url(f"{live_server.url}/petitions/{SLUG}/check-email")

    stored = {s.email: s.state for s in signatures(live_server.app)}
    assert stored["second@example.org"] is SignatureState.PENDING
    # The 429 page itself is the one error the console reports; nothing the
    # CSP refused (an inline style, a worker from blob:), no script error.
    refused_page = "the server responded with a status of 429"
    assert [e for e in browser_log.errors if refused_page not in e] == []
    assert elsewhere(browser_log.requests, live_server) == []


def test_without_javascript_the_limit_holds_and_says_so(browser, live_server):
    """No script, no solution: the page says what to do, and nothing is stored."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    for email in ("first@example.org", "second@example.org"):
        page.goto(f"{live_server.url}/petitions/{SLUG}")
        fill_sign_form(page, email)
        page.locator("form.sign-form").get_by_role("button", name="Sign").click()
    form = page.locator("form.sign-form")
    expect(form.get_by_role("alert")).to_contain_text("turned off")
    expect(form.get_by_role("alert")).to_contain_text("try again in an hour")
    form.get_by_role("button", name="Sign the petition").click()
    expect(page.locator("form.sign-form").get_by_role("alert")).to_be_visible()
    assert [s.email for s in signatures(live_server.app)] == ["first@example.org"]
    context.close()


def test_the_widget_speaks_the_pages_language(page: Page, live_server):
    """On a Dari page the widget's own words are Dari (campaign/abuse.py)."""
    page.goto(f"{live_server.url}/petitions/{SLUG}")
    fill_sign_form(page, "first@example.org")
    page.locator("form.sign-form").get_by_role("button", name="Sign").click()
    page.goto(f"{live_server.url}/fa/petitions/{SLUG}")
    page.locator("form.sign-form button[type=submit]").click()  # over the limit
    widget = page.locator("form.sign-form altcha-widget")
    expect(widget).to_have_attribute("language", "fa-AF")
    expect(widget).to_contain_text("تمام شد", timeout=30_000)
