"""An editor, in a browser, starts a petition, writes its Dari version side by
side, previews it, publishes it, a supporter signs it, and the editor closes
it after the page that asks first."""

import re

from playwright.sync_api import Page, expect

from campaign.organiser.services import create_organiser
from campaign.permissions import Role

PASSWORD = "correct horse battery staple"


def test_an_editor_runs_a_petition_from_draft_to_closed(
    page: Page, live_server, browser_log
):
    app, url = live_server.app, live_server.url
    with app.app_context():
        create_organiser("editor@example.org", PASSWORD, Role.EDITOR)
    page.goto(f"{url}/organiser/login")
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="New petition").click()
    page.get_by_label("Title", exact=True).fill("Free the journalists")
    page.get_by_label("Addressed to (the decision-maker)").fill("The Minister")
    page.get_by_label("Petition text (Markdown)").fill("Release **every** one.")
    page.get_by_label("Goal (signatures)").fill("100")
    page.get_by_label("When the goal is reached").select_option("stepping")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("heading", name="Status: Draft")).to_be_visible()
    assert page.request.get(f"{url}/petitions/free-the-journalists").status == 404

    page.get_by_role("link", name="Edit the petition").click()
    page.get_by_label("Title (Dari)").fill("روزنامه‌نگاران را آزاد کنید")
    page.get_by_label("Addressed to (Dari)").fill("وزیر")
    page.get_by_label("Petition text in Markdown (Dari)").fill("همه را **آزاد** کنید.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".story-preview strong", has_text="آزاد")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name="Status: Open")).to_be_visible()

    public = page.context.browser.new_page()
    public.goto(f"{url}/fa/petitions/free-the-journalists")
    expect(public.locator("#petition-title")).to_have_text("روزنامه‌نگاران را آزاد کنید")
    expect(public.locator("form.sign-form")).to_be_visible()

    page.get_by_role("link", name="Close…").click()
    expect(page.get_by_role("heading", name="Close this petition?")).to_be_visible()
    page.get_by_role("button", name="Yes, close it").click()
    expect(page.get_by_role("heading", name="Status: Closed")).to_be_visible()
    public.reload()
    expect(public.locator("p.closed")).to_be_visible()
    expect(public.locator("form.sign-form")).to_have_count(0)
    assert re.search(r"/organiser/petitions/free-the-journalists$", page.url)
    assert browser_log.errors == []
    public.close()
