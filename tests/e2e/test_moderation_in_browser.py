"""An organiser invalidates signatures after a preview, undoes it, and
downloads the petition PDF, in a real browser."""

from playwright.sync_api import Page, expect

from campaign.organiser.services import create_organiser
from tests.helpers import SLUG, count
from tests.test_care import sign_and_confirm
from tests.test_petition_pdf import pdf_text

PASSWORD = "correct horse battery staple"


def test_organiser_invalidates_undoes_and_downloads_the_pdf(
    page: Page, live_server, browser_log, inbox, tmp_path
):
    app = live_server.app
    with app.app_context():
        create_organiser("org@example.org", PASSWORD)
    sign_and_confirm(app, inbox, "a@spam.example", "b@spam.example", public="y")
    sign_and_confirm(app, inbox, "ada@example.org", public="y")

    page.goto(f"{live_server.url}/organiser/petitions/{SLUG}/moderate")
    page.get_by_label("Email").fill("org@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_label("Email domain").fill("spam.example")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("2 signatures match.")).to_be_visible()
    page.get_by_label("Yes, I have checked them: go ahead").check()
    page.get_by_role("button", name="Invalidate", exact=True).click()
    expect(page.get_by_text("2 signatures invalidated.")).to_be_visible()
    assert count(app.test_client()) == 1
    page.get_by_role("button", name="Undo: put the 2 signatures back").click()
    expect(page.get_by_text("Undone: 2 signatures restored.")).to_be_visible()
    assert count(app.test_client()) == 3

    page.goto(f"{live_server.url}/organiser/petitions/{SLUG}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF for decision-makers").click()
    download = download_info.value
    assert download.suggested_filename == f"{SLUG}-petition.pdf"
    path = tmp_path / "petition.pdf"
    download.save_as(path)
    text = pdf_text(path.read_bytes())
    assert "3 people signed this petition" in text and "Ada Lovelace" in text
    assert browser_log.errors == []
