"""Issue 13 end to end, in Chromium: an editor runs a whole campaign from the
browser (story, image, petition, update to signers, closing, the PDF) and
supporters see and sign it, on SQLite and on PostgreSQL."""

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from pypdf import PdfReader

from campaign.extensions import db
from campaign.organiser.services import create_organiser
from campaign.permissions import Role
from campaign.story.models import Story
from tests.helpers import PG_URL, needs_postgres, wait_for

PASSWORD = "correct horse battery staple"
EDITOR = "editor@example.org"
TITLE = "Teachers keep girls' schools open in secret"
SUMMARY = "In Herat, teachers hold classes in their homes."
BODY = "Girls **still** learn, in secret.\n\n## Classes at home\n\nEvery morning."
ALT = "A teacher writes on a blackboard in a small room"
PETITION = "Let girls go back to school"
PETITION_SLUG = "let-girls-go-back-to-school"
UPDATE = "The ministry answered our letter"
GPS = 0x8825  # the EXIF GPS block
WAIT = {"timeout": 15_000}

OPTED_IN = ("Ada Lovelace", "ada@example.org")
NOT_TICKED = ("Grace Hopper", "grace@example.org")
NEVER_CONFIRMED = ("Mary Somerville", "mary@example.org")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=needs_postgres)],
)
def database_url(request, tmp_path) -> str:
    """This journey runs on both databases (tests/conftest.py's params), unlike
    the other browser tests: it crosses every feature's queries."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return PG_URL


def phone_photo(path) -> None:
    """A JPEG as a phone writes it, with the GPS position in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS] = {1: "N", 2: (34.0, 20.0, 31.0), 3: "E", 4: (62.0, 12.0, 14.0)}
    Image.new("RGB", (1600, 900), (200, 120, 40)).save(path, "JPEG", exif=exif)
    with Image.open(path) as written:
        assert written.getexif().get_ifd(GPS)  # the secret is really there


def watch(context: BrowserContext, log) -> None:
    """Record a context's requests and errors in ``log`` (as browser_log does)."""

    def on_console(message) -> None:
        if message.type == "error":
            log.errors.append(message.text)

    context.on("request", lambda request: log.requests.append(request.url))
    context.on("console", on_console)
    context.on("weberror", lambda error: log.errors.append(str(error.error)))


def clean_image(response) -> None:
    """A served image that decodes and carries no EXIF (so no GPS) at all."""
    assert response.ok, response.status
    picture = Image.open(io.BytesIO(response.body()))
    picture.load()
    assert not picture.getexif() and not picture.getexif().get_ifd(GPS)
    assert b"Exif" not in response.body() and b"PhoneMaker" not in response.body()


def stories(app) -> int:
    """How many stories the database holds."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Story))


def sign(page: Page, name: str, email: str, updates: bool) -> None:
    """Sign on the front page as a supporter would; who asks for updates
    also agrees to be named (the PDF names only those who agree)."""
    form = page.locator("form.sign-form")
    form.get_by_label("Full name", exact=True).fill(name)
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("Country", exact=True).select_option(label="Afghanistan")
    box = form.get_by_label("Email me about this petition's progress")
    expect(box).not_to_be_checked()
    if updates:
        box.check()
        form.get_by_label("Show my first name, country and comment").check()
    form.get_by_role("button", name="Sign the petition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your email", **WAIT
    )


def confirm(page: Page, inbox, email: str, live_server) -> None:
    """Follow the link in the confirmation email the SMTP server received."""
    [message] = wait_for(lambda: inbox.to(email))
    link = inbox.link(message)
    assert live_server.owns(link)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you: your signature is confirmed", **WAIT
    )


def editor_writes_the_campaign(page: Page, live_server, tmp_path) -> None:
    """Step 1: story with preview, image, petition, publish both, feature."""
    url = live_server.url
    page.goto(f"{url}/organiser/")
    page.get_by_label("Email").fill(EDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(**WAIT)

    page.get_by_role("navigation", name="Organiser").get_by_role(
        "link", name="Stories"
    ).click()
    page.get_by_role("link", name="Write a story").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a story")
    english = page.get_by_role("group", name="In English (the original)")
    english.get_by_label("Title", exact=True).fill(TITLE)
    english.get_by_label("Summary (for share cards and the campaigns page)").fill(
        SUMMARY
    )
    english.get_by_label("Story (Markdown)").fill(BODY)
    before = stories(live_server.app)

    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview (not saved yet)")
    expect(preview.get_by_role("heading", name=TITLE)).to_be_visible(**WAIT)
    expect(preview.locator("strong")).to_have_text("still")  # Markdown rendered
    expect(preview.get_by_role("heading", name="Classes at home")).to_be_visible()
    expect(preview).not_to_contain_text("**")
    assert stories(live_server.app) == before  # a preview saves nothing
    expect(english.get_by_label("Title", exact=True)).to_have_value(TITLE)

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The story is saved.")).to_be_visible(**WAIT)
    assert stories(live_server.app) == before + 1

    photo = tmp_path / "from-my-phone.jpg"
    phone_photo(photo)
    page.get_by_role("link", name="Story image").click()
    page.get_by_label("Image file (JPEG, PNG or WebP)").set_input_files(photo)
    page.get_by_label("Alt text: what the image shows").fill(ALT)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("img", name=ALT)).to_be_visible(**WAIT)

    page.get_by_role("link", name="Dashboard").click()
    page.goto(f"{url}/organiser/petitions/new")
    page.get_by_label("Title", exact=True).fill(PETITION)
    page.get_by_label("Addressed to (the decision-maker)").fill("The Ministry")
    page.get_by_label("Petition text (Markdown)").fill("Open the schools to girls.")
    page.get_by_label("Goal (signatures)").fill("100")
    page.get_by_label("Story it belongs to").select_option(label=TITLE)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PETITION, **WAIT)
    page.get_by_role("button", name="Publish").click()
    expect(
        page.get_by_text("The petition is public and takes signatures.")
    ).to_be_visible(**WAIT)

    page.get_by_role("navigation", name="Organiser").get_by_role(
        "link", name="Stories"
    ).click()
    row = page.get_by_role("row").filter(has_text=TITLE)
    row.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("The story is published.")).to_be_visible(**WAIT)
    row.get_by_role("button", name="Feature on the front page").click()
    expect(page.get_by_text("The story is now on the front page.")).to_be_visible(
        **WAIT
    )
    expect(row).to_contain_text("Featured on the front page")


@pytest.fixture
def anonymous(browser, browser_context_args, browser_log):
    """Open a fresh browser context (no cookies: a supporter), its requests
    and errors recorded in browser_log; all closed after the test."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(**browser_context_args)
        watch(context, browser_log)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


# Who signs, and whether they tick the updates box (and agree to be named).
SUPPORTERS = [(*OPTED_IN, True), (*NOT_TICKED, False), (*NEVER_CONFIRMED, True)]


def supporters_see_and_sign(anonymous, live_server, inbox) -> Page:
    """Step 2: the front page shows the story, its clean image and share card;
    three supporters sign; two confirm. Returns the first supporter's page."""
    pages = []
    for _supporter in SUPPORTERS:
        supporter = anonymous()
        supporter.goto(live_server.url + "/")
        expect(supporter.get_by_role("heading", level=1)).to_have_text(TITLE)
        pages.append(supporter)

    first = pages[0]
    image = first.get_by_role("img", name=ALT)
    expect(image).to_be_visible(**WAIT)
    expect(image).to_have_js_property("complete", True, **WAIT)
    assert image.evaluate("img => img.naturalWidth") > 0
    loaded = image.evaluate("img => img.currentSrc")
    assert live_server.owns(loaded), loaded
    clean_image(first.context.request.get(loaded))
    clean_image(first.context.request.get(image.evaluate("img => img.src")))
    card = first.locator('head meta[property="og:image"]')
    expect(card).to_have_count(1)
    card_url = card.get_attribute("content")
    assert live_server.owns(card_url), card_url
    clean_image(first.context.request.get(card_url))

    for supporter, (name, email, updates) in zip(pages, SUPPORTERS, strict=True):
        sign(supporter, name, email, updates)
    confirm(pages[0], inbox, OPTED_IN[1], live_server)
    confirm(pages[1], inbox, NOT_TICKED[1], live_server)
    assert len(inbox.to(NEVER_CONFIRMED[1])) == 1  # asked, and never confirmed
    return first


def editor_emails_an_update(page: Page, inbox) -> None:
    """Step 3: post an update and email it, after the page saying its reach."""
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name=PETITION).first.click()
    page.get_by_role("link", name="Updates to signers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Updates to signers")
    page.get_by_role("link", name="Write an update").click()
    # The English fields come first; each other language has its own below.
    page.get_by_label("Title", exact=True).first.fill(UPDATE)
    page.get_by_label("Update (Markdown)", exact=True).first.fill(
        "They **promised** a reply by Friday."
    )
    inbox.messages.clear()
    page.get_by_role("button", name="Post the update").click()
    expect(page.get_by_text("The update is on the petition's page.")).to_be_visible(
        **WAIT
    )
    assert inbox.messages == []  # posting alone emails nobody

    page.get_by_role("link", name="Email it to 1 signer…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Email this update?")
    expect(page.get_by_text("It will go to 1 person:")).to_be_visible()
    assert inbox.messages == []  # nor does the question
    page.get_by_role("button", name="Yes, email 1 person").click()
    expect(page.get_by_text("Sending has started.")).to_be_visible(**WAIT)
    # The suite's tasks run in-process (CELERY_TASK_ALWAYS_EAGER), as in
    # tests/test_updates.py: the page shows the send finished.
    expect(page.get_by_text("Sent", exact=True)).to_be_visible(**WAIT)
    [copy] = wait_for(lambda: inbox.messages)
    assert copy["X-Envelope-To"] == OPTED_IN[1]
    assert UPDATE in copy["Subject"] or UPDATE in inbox.text(copy)
    assert "promised" in inbox.text(copy)
    assert [m["X-Envelope-To"] for m in inbox.messages] == [OPTED_IN[1]]


def pdf_text(path) -> str:
    """The text of every page of a PDF, spaces made plain."""
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


def test_an_editor_runs_a_campaign_and_supporters_sign_it(
    page: Page,
    anonymous,
    live_server,
    browser_log,
    inbox,
    tmp_path,
):
    app = live_server.app
    with app.app_context():
        create_organiser(EDITOR, PASSWORD, Role.EDITOR)

    editor_writes_the_campaign(page, live_server, tmp_path)
    supporter = supporters_see_and_sign(anonymous, live_server, inbox)

    editor_emails_an_update(page, inbox)
    public = f"{live_server.url}/petitions/{PETITION_SLUG}"
    supporter.goto(public)
    updates = supporter.get_by_role("region", name="Updates")
    expect(updates.get_by_role("heading", name=UPDATE)).to_be_visible(**WAIT)
    expect(updates.locator("strong")).to_have_text("promised")

    # Step 4: close, after the page that asks first.
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name=PETITION).first.click()
    page.get_by_role("link", name="Close…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Close this petition?")
    expect(page.get_by_text("has 2 confirmed signatures")).to_be_visible()
    page.get_by_role("button", name="Yes, close it").click()
    expect(page.get_by_text("The petition is closed: its page stays")).to_be_visible(
        **WAIT
    )
    # The supporter holds no session (a confirmation link keeps no one in it),
    # so the browser may keep the public page for PUBLIC_MAX_AGE seconds.
    closed = supporter.get_by_text("This petition is closed.")
    for _ in range(30):
        supporter.goto(public)
        if closed.count():
            break
        supporter.wait_for_timeout(1000)
    expect(closed).to_be_visible(**WAIT)
    expect(supporter.locator("[data-count]").last).to_have_text("2")
    expect(supporter.get_by_role("button", name="Sign the petition")).to_have_count(0)
    expect(supporter.get_by_label("Email", exact=True)).to_have_count(0)

    # Step 5: the PDF for decision-makers.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF for decision-makers").click()
    download = download_info.value
    path = tmp_path / "petition.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    assert PETITION in text
    assert "2 people signed this petition" in text
    assert OPTED_IN[0] in text  # the signer who agreed to be named
    assert "1 of them chose not to be named in public" in text
    assert NOT_TICKED[0] not in text and NEVER_CONFIRMED[0] not in text

    assert browser_log.errors == []
    assert [url for url in browser_log.requests if not live_server.owns(url)] == []
