"""An organiser signs in, reads the dashboard and downloads an export."""

import csv

from playwright.sync_api import Page, expect

from campaign.organiser.services import create_organiser
from tests.helpers import SLUG, sign

PASSWORD = "correct horse battery staple"


def test_organiser_signs_in_and_downloads_signatures(
    page: Page, live_server, browser_log, inbox, tmp_path
):
    app = live_server.app
    with app.app_context():
        create_organiser("org@example.org", PASSWORD)
    sign(app.test_client(), name="Malalai Joya", email="malalai@example.org")

    page.goto(f"{live_server.url}/organiser/")
    expect(page).to_have_url(f"{live_server.url}/organiser/login?next=/organiser/?")
    page.get_by_label("Email").fill("org@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="No recognition for the Taliban").first.click()
    expect(page.get_by_role("img", name="Signatures per day")).to_be_visible()
    expect(page.get_by_role("img", name="Signatures per hour")).to_be_visible()
    expect(page.get_by_text("Malalai Joya")).to_be_visible()

    page.get_by_label("State").select_option("pending")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"{SLUG}-signatures.csv"
    path = tmp_path / "export.csv"
    download.save_as(path)
    with path.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(row["name"], row["state"]) for row in rows] == [
        ("Malalai Joya", "pending")
    ]
    assert browser_log.errors == []
    assert [url for url in browser_log.requests if not live_server.owns(url)] == []
