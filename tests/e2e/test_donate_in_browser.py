"""A supporter follows the donate banner to Stripe Checkout, on a phone."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.donate_helpers import rows, stripe_config
from tests.stripe_standin import running


@pytest.fixture
def standin():
    """The local stand-in for Stripe's API and its Checkout page."""
    with running() as server:
        yield server


@pytest.fixture
def live_config(standin) -> dict:
    """The served site talks to the stand-in instead of Stripe."""
    return stripe_config(standin)


def test_from_the_banner_to_checkout(page: Page, live_server, standin, browser_log):
    """Banner on the story, pick a monthly $50 gift, land on Checkout."""
    page.goto(live_server.url + "/")
    page.locator("a.donate-banner").click()
    expect(page).to_have_url(live_server.url + "/donate")
    expect(page.get_by_role("heading", level=1)).to_have_text("Support the ERA")
    page.get_by_label("Every month", exact=True).check()
    page.get_by_label("$50", exact=True).check()
    page.get_by_label("Email for your receipt", exact=False).fill("ada@example.org")
    page.get_by_role("button", name="Continue to secure payment").click()

    expect(page).to_have_url(re.compile(re.escape(standin.url) + r"/pay/cs_test_1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Stripe Checkout stand-in"
    )
    [call] = standin.api_calls("/v1/checkout/sessions")
    assert call.params["mode"] == "subscription"
    assert call.params["line_items[0][price_data][unit_amount]"] == "5000"
    assert call.params["customer_email"] == "ada@example.org"
    assert rows(live_server.app) == []  # only Stripe's webhook records a gift
    assert browser_log.errors == []
