"""A supporter signs the petition in a real browser, on a phone-sized screen."""

import re

from playwright.sync_api import Locator, Page, expect

from campaign.petition.services import confirmed_count, get_petition
from campaign.story.services import front_story
from tests.helpers import SLUG

EMAIL = "ada@example.org"
POLL_MS = 15_000  # how often static/js/campaign.js refreshes the count


def story_title(app) -> str:
    """The title of the story shown at ``/``."""
    with app.app_context():
        return front_story().title


def counted(app) -> int:
    """The petition's confirmed count, read from the database."""
    with app.app_context():
        return confirmed_count(get_petition(SLUG).id)


def shown_count(page: Page) -> Locator:
    """The signature count on the current page (the last: a phone also sees
    one near the headline, before the petition panel's)."""
    return page.locator("[data-count]").last


def fill_sign_form(page: Page, email: str) -> None:
    """Fill in the sign form on the page as a supporter would, boxes unticked."""
    form = page.locator("form.sign-form")
    form.get_by_label("Full name", exact=True).fill("Ada Lovelace")
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("Country", exact=True).select_option(label="United Kingdom")


def elsewhere(urls: list[str], live_server) -> list[str]:
    """The URLs that do not point at the live server."""
    return [url for url in urls if not live_server.owns(url)]


def test_supporter_signs_and_confirms_by_email(
    page: Page, live_server, inbox, browser_log
):
    """Sign on the front page, confirm from the email, and see the count go up."""
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        story_title(live_server.app)
    )
    expect(shown_count(page)).to_have_text("0")
    form = page.locator("form.sign-form")
    expect(form.get_by_label("Also add me to the mailing list")).not_to_be_checked()
    expect(form.get_by_label("Email me about this petition")).not_to_be_checked()
    expect(form.get_by_label("Show my first name")).not_to_be_checked()
    fill_sign_form(page, EMAIL)
    form.get_by_role("button", name="Sign the petition").click()

    expect(page).to_have_url(re.compile(rf"/petitions/{SLUG}/check-email$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert counted(live_server.app) == 0

    # A second tab left open on the story, its timers under the test's control.
    watcher = page.context.new_page()
    watcher.clock.install()
    watcher.goto(live_server.url + "/")
    expect(shown_count(watcher)).to_have_text("0")

    [message] = inbox.to(EMAIL)
    link = inbox.link(message)
    assert live_server.owns(link)
    page.goto(link)
    expect(page).to_have_url(re.compile(rf"/petitions/{SLUG}/thanks$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: your signature is confirmed"
    )
    expect(shown_count(page)).to_have_text("1")
    page.goto(live_server.url + "/")
    expect(shown_count(page)).to_have_text("1")
    assert counted(live_server.app) == 1

    # The open tab picks up the new count from count.json on its next poll.
    watcher.clock.run_for(POLL_MS)
    expect(shown_count(watcher)).to_have_text("1")
    assert any(url.endswith("/count.json") for url in browser_log.requests)

    assert elsewhere(browser_log.requests, live_server) == []
    assert browser_log.errors == []


def test_bad_email_shows_field_error_and_counts_nothing(
    page: Page, live_server, inbox, browser_log
):
    """A mistyped email is caught next to its field; nothing is stored or sent."""
    page.goto(live_server.url + "/")
    fill_sign_form(page, "not-an-email")
    with page.expect_response(re.compile(rf"/petitions/{SLUG}/sign$")) as sent:
        page.get_by_role("button", name="Sign the petition").click()

    assert sent.value.status == 400
    expect(page).to_have_url(re.compile(rf"/petitions/{SLUG}/sign$"))
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please fix the highlighted fields.")
    summary.get_by_role("link", name="Email").click()
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    email = page.get_by_label("Email", exact=True)
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(
        "Enter an email address like name@example.org."
    )
    expect(email).to_have_value("not-an-email")
    expect(page.get_by_label("Full name", exact=True)).to_have_value("Ada Lovelace")
    expect(shown_count(page)).to_have_text("0")
    assert counted(live_server.app) == 0
    assert inbox.messages == []
    assert elsewhere(browser_log.requests, live_server) == []
    # Chromium logs the 400 answer itself as a console error; nothing else may.
    assert [e for e in browser_log.errors if "status of 400" not in e] == []
