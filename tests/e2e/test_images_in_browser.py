"""An editor gives the story a header image in Chromium; a supporter's phone
loads a WebP of the width it needs, from our own origin only."""

from PIL import Image
from playwright.sync_api import Page, expect

from campaign.organiser.services import create_organiser
from campaign.permissions import Role

PASSWORD = "correct horse battery staple"
STORY = "russia-recognizes-taliban"


def test_editor_uploads_an_image_and_a_phone_loads_webp(
    page: Page, live_server, browser_log, tmp_path
):
    app = live_server.app
    with app.app_context():
        create_organiser("editor@example.org", PASSWORD, Role.EDITOR)
    photo = tmp_path / "protest.jpg"
    Image.new("RGB", (2400, 1600), (120, 40, 60)).save(photo, "JPEG")

    page.goto(f"{live_server.url}/organiser/stories/{STORY}/image")
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Story image")).to_be_visible()
    page.get_by_label("Image file").set_input_files(photo)
    page.get_by_role("button", name="Save").click()
    # Without alt text the form says what to fix, beside the field.
    expect(
        page.get_by_role("link", name="Alt text: what the image shows")
    ).to_be_visible()
    page.get_by_label("Image file").set_input_files(photo)
    page.get_by_label("Alt text: what the image shows").fill("Protesters in Kabul.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The image is saved.")).to_be_visible()

    page.context.clear_cookies()
    page.goto(live_server.url + "/")
    image = page.get_by_role("img", name="Protesters in Kabul.")
    expect(image).to_be_visible()
    loaded = image.evaluate("img => [img.complete, img.naturalWidth, img.currentSrc]")
    complete, width, source = loaded
    assert complete and width > 0  # decoded: the CSP and the type let it in
    # A 390-pixel phone screen (1×) takes the narrowest WebP, not 1600 pixels.
    assert source.endswith("-480.webp")
    # The refused form's own 400 is the one error the console may show.
    assert [e for e in browser_log.errors if "400 (BAD REQUEST)" not in e] == []
    assert [url for url in browser_log.requests if not live_server.owns(url)] == []
