"""Cached public pages in a real browser: our own form is taken with and
without JavaScript, another site's copy of it is refused, and the count stays
live (or says how old it may be)."""

import re
import threading

import pytest
from playwright.sync_api import Browser, expect
from werkzeug.serving import make_server

from tests.helpers import CROSS_SITE_REFUSAL, SLUG, sign, snapshot

ATTACKER_PAGE = """<!doctype html><title>Win a prize</title>
<form method="post" action="{action}">
<input type="hidden" name="name" value="Forged Name">
<input type="hidden" name="email" value="victim@example.org">
<input type="hidden" name="country" value="GB">
<button type="submit">Claim your prize</button>
</form>"""


@pytest.fixture
def attacker(live_server):
    """Another site (``localhost`` is another site than ``127.0.0.1``) whose
    page posts our sign form."""
    action = f"{live_server.url}/petitions/{SLUG}/sign"

    def page(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [ATTACKER_PAGE.format(action=action).encode()]

    server = make_server("127.0.0.1", 0, page, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_our_own_sign_form_is_taken(browser: Browser, live_server, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server.url}/petitions/{SLUG}")
    form = page.locator("form.sign-form")
    form.get_by_label("Full name", exact=True).fill("Ada Lovelace")
    form.get_by_label("Email", exact=True).fill("ada@example.org")
    form.get_by_label("Country", exact=True).select_option(label="United Kingdom")
    form.get_by_role("button", name="Sign the petition").click()
    expect(page).to_have_url(re.compile(r"/check-email$"))
    rows = snapshot(live_server.app)["signature"]
    assert len(rows) == 1 and "ada@example.org" in rows[0]
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_another_sites_copy_of_the_form_is_refused(
    browser: Browser, live_server, attacker, javascript
):
    before = snapshot(live_server.app)
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(attacker)
    with page.expect_response(lambda r: r.url.endswith("/sign")) as answer:
        page.get_by_role("button", name="Claim your prize").click()
    assert answer.value.status == 403
    expect(page.locator("main")).to_contain_text(CROSS_SITE_REFUSAL)
    assert snapshot(live_server.app) == before
    context.close()


def test_without_javascript_the_page_says_how_old_the_count_may_be(
    browser: Browser, live_server
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/petitions/{SLUG}")
    # PUBLIC_MAX_AGE + PUBLIC_STALE_WHILE_REVALIDATE + COUNT_CACHE_SECONDS
    expect(page.locator(".count-age")).to_have_text(
        "This count may be up to 73 seconds old."
    )
    context.close()


def test_with_javascript_a_stale_cached_count_is_brought_up_to_date(
    browser: Browser, live_server, inbox
):
    client = live_server.app.test_client()
    assert sign(client).status_code == 303
    client.get(re.sub(r"^https?://[^/]+", "", inbox.link(inbox.messages[0])))
    url = f"{live_server.url}/petitions/{SLUG}"

    def stale_copy(route):
        """The page as a cache kept it from before the signature counted."""
        page = (
            route.fetch()
            .text()
            .replace("<strong data-count>1</strong>", "<strong data-count>0</strong>")
            .replace(">signature of 10,000 goal<", ">signatures of 10,000 goal<")
        )
        assert "<strong data-count>0</strong>" in page
        assert ">signatures of 10,000 goal<" in page
        route.fulfill(body=page, content_type="text/html; charset=utf-8")

    context = browser.new_context()
    page = context.new_page()
    page.clock.install()  # no poll runs: only the refresh on load can do it
    page.route(url, stale_copy)
    page.goto(url)
    expect(page.locator("[data-count]")).to_have_text("1")
    # The words after it take the singular, from the page's own two forms.
    expect(page.locator("[data-count-words]")).to_have_text("signature of 10,000 goal")
    expect(page.locator(".count-age")).to_be_hidden()
    context.close()
