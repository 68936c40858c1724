"""The live count in Chromium writes Dari and Pashto numbers in their own
digits, like the server (Chromium has no Pashto number data of its own)."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.helpers import SLUG, sign


@pytest.mark.parametrize(("prefix", "one"), [("/fa", "۱"), ("/ps", "۱")])
def test_the_live_count_uses_the_languages_digits(
    browser: Browser, live_server, inbox, prefix, one
):
    client = live_server.app.test_client()
    assert sign(client).status_code == 303
    client.get(re.sub(r"^https?://[^/]+", "", inbox.link(inbox.messages[0])))
    url = f"{live_server.url}{prefix}/petitions/{SLUG}"

    def stale_copy(route):
        """The page as a cache kept it from before the signature counted."""
        page = route.fetch().text()
        assert f"<strong data-count>{one}</strong>" in page
        page = page.replace(
            f"<strong data-count>{one}</strong>", "<strong data-count>0</strong>"
        )
        route.fulfill(body=page, content_type="text/html; charset=utf-8")

    context = browser.new_context()
    page = context.new_page()
    page.clock.install()  # no poll runs: only the refresh on load can do it
    page.route(url, stale_copy)
    page.goto(url)
    expect(page.locator("[data-count]")).to_have_text(one)
    context.close()
