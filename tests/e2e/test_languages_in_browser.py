"""A supporter reads, signs and confirms in Dari or Pashto on a phone.

Every word the test looks for comes from the app itself (its catalogues
through gettext under ``force_locale``, its content translations from the
database), so the test stays true when translators revise their wording and
fails when a page, a form or an email falls back to English.
"""

import os
import re
import shutil
from contextlib import contextmanager
from email.message import EmailMessage
from functools import partial
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel import gettext as _
from playwright.sync_api import Page, expect

import campaign
from campaign.forms import country_name
from campaign.i18n import own_name
from campaign.petition.services import public_petition
from campaign.story.services import front_story
from tests.e2e.conftest import PHONE
from tests.e2e.test_sign_in_browser import counted, elsewhere, shown_count
from tests.helpers import SLUG

RTL = [
    pytest.param("fa_AF", "/fa", id="dari"),
    pytest.param("ps", "/ps", id="pashto"),
]
ALL = [pytest.param("en", "", id="english"), *RTL]
# Where the shared link points: the story at the front, or the petition itself.
ENTRIES = [pytest.param("/", id="story"), pytest.param(f"/petitions/{SLUG}", id="pet")]
SIGNER = "Malalai Joya"
# CLDR writes Dari and Pashto numbers in Extended Arabic-Indic digits (arabext).
DIGITS = {"en": "0123456789", "fa_AF": "۰۱۲۳۴۵۶۷۸۹", "ps": "۰۱۲۳۴۵۶۷۸۹"}
SCREENSHOTS = Path(__file__).parents[2] / "bench" / "results" / "screenshots"
CATALOGUES = Path(campaign.__file__).parent / "translations"
# Names that stay in Latin letters in every language: the share links' sites.
BRANDS = {"WhatsApp", "Telegram", "Facebook", "X"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
# Visible text and spoken labels outside anything marked lang="en", and the title.
VISIBLE_TEXT = """() => {
  const found = [document.title];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walk.nextNode()); ) {
    const element = node.parentElement;
    const held = element.closest("[lang]");
    if (held && held.lang.startsWith("en")) continue;
    if (element.checkVisibility()) found.push(node.textContent);
  }
  for (const element of document.body.querySelectorAll("[aria-label], [alt]")) {
    found.push(element.getAttribute("aria-label") || element.getAttribute("alt"));
  }
  return found;
}"""


@contextmanager
def speaking(app, locale: str):
    """A request context in ``locale``, for the app's own gettext and helpers."""
    with app.test_request_context(), force_locale(locale):
        yield


def translated(app, locale: str, english: str) -> str:
    """``english`` in ``locale`` from the app's catalogue; it must be translated."""
    with speaking(app, locale):
        text = _(english)
    if locale != "en":
        assert text != english, f"{english!r} has no {locale} translation"
    return text


def html_tag(locale: str) -> tuple[str, str]:
    """The ``lang`` and ``dir`` a page in ``locale`` must declare."""
    return locale.replace("_", "-"), Locale.parse(locale).text_direction


def expect_language(page: Page, locale: str) -> None:
    """The page declares ``locale`` and its direction on ``<html>``."""
    lang, direction = html_tag(locale)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", direction)


def expect_to_fit(page: Page) -> None:
    """Nothing on the page sticks out sideways, so a phone shows it unzoomed."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[1] == PHONE["width"], f"{page.url}: {widths}"


def html_opening(message: EmailMessage) -> str:
    """The ``<html …>`` start tag of a message's HTML part."""
    html = message.get_body(("html",)).get_content()
    found = re.search(r"<html\b[^>]*>", html)
    assert found, "the email has no <html> tag"
    return found.group(0)


def latin_words(text: str) -> set[str]:
    """The words in Latin letters in ``text`` (its HTML tags left out)."""
    return set(LATIN_WORD.findall(re.sub(r"<[^>]+>", " ", text)))


def kept_in_latin(locale: str) -> set[str]:
    """The Latin words translators wrote into a catalogue (ERA, PDF, Stripe)."""
    po = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as file:
        catalogue = read_po(file)
    words = set()
    for message in catalogue:
        strings = (
            message.string if isinstance(message.string, tuple) else [message.string]
        )
        for string in strings:
            words |= latin_words(re.sub(r"%\(\w+\)\w", " ", string or ""))
    return words


def kept_words(app, locale: str) -> set[str]:
    """Latin words a page or email in ``locale`` may show: the share sites'
    names and what translators kept in the translated content or catalogue."""
    with speaking(app, locale):
        story = front_story(locale)
        petition = public_petition(SLUG, locale)
    content = [story.title, story.kicker, story.summary, story.body_html]
    content += [*story.sources, petition.title, petition.target, petition.body_html]
    return BRANDS | latin_words(" ".join(content)) | kept_in_latin(locale)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize(("locale", "prefix"), ALL)
def test_a_supporter_signs_and_confirms_in_their_language(
    page: Page, live_server, inbox, browser_log, locale, prefix, entry
):
    """From a shared link in a language to the thank-you page in the same one."""
    app = live_server.app
    say = partial(translated, app, locale)
    with speaking(app, locale):
        story = front_story(locale)
        petition = public_petition(SLUG, locale)
        country = country_name("AF")
    if locale != "en":
        assert story.is_translation and petition.locale == locale
    email = f"signer-{locale.lower()}-{len(entry)}@example.org"

    page.goto(live_server.url + prefix + entry)
    expect_language(page, locale)
    expect_to_fit(page)
    if entry == "/":
        expect(page.get_by_role("heading", level=1)).to_have_text(story.title)
    expect(page.locator("#petition-title")).to_have_text(petition.title)
    expect(shown_count(page)).to_have_text(DIGITS[locale][0])

    form = page.locator("form.sign-form")
    form.get_by_label(say("Full name"), exact=True).fill(SIGNER)
    form.get_by_label(say("Email"), exact=True).fill(email)
    form.get_by_label(say("Country"), exact=True).select_option(label=country)
    form.get_by_role("button", name=say("Sign the petition")).click()

    expect(page).to_have_url(
        re.compile(rf"{prefix}/petitions/{SLUG}/check-email(#.*)?$")
    )
    expect_language(page, locale)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(say("Check your email"))
    assert counted(app) == 0

    [message] = inbox.to(email)
    subject = say("Please confirm your signature")
    assert message["Subject"] == subject
    lang, direction = html_tag(locale)
    assert f'lang="{lang}"' in html_opening(message)
    assert f'dir="{direction}"' in html_opening(message)
    link = inbox.link(message)
    assert link.startswith(f"{live_server.url}{prefix}/"), link
    if locale != "en":
        words = latin_words(re.sub(r"https?://\S+", " ", inbox.text(message)))
        kept = kept_words(app, locale) | latin_words(SIGNER)
        assert sorted(words - kept) == [], "English left in the email"

    page.goto(link)
    expect(page).to_have_url(re.compile(rf"{prefix}/petitions/{SLUG}/thanks$"))
    expect_language(page, locale)
    expect(heading).to_have_text(say("Thank you: your signature is confirmed"))
    expect(shown_count(page)).to_have_text(DIGITS[locale][1])
    assert counted(app) == 1

    assert elsewhere(browser_log.requests, live_server) == []
    assert browser_log.errors == []


@pytest.mark.parametrize(("locale", "prefix"), RTL)
def test_nothing_on_the_way_is_left_in_english(page: Page, live_server, locale, prefix):
    """Every page of the journey speaks the language, but for the names the
    translators kept in Latin letters (in the content or the catalogue)."""
    kept = kept_words(live_server.app, locale)
    petition_page = f"{prefix}/petitions/{SLUG}"
    for path in ["/", "", "/check-email", "/thanks"]:
        url = f"{prefix}/" if path == "/" else petition_page + path
        page.goto(live_server.url + url)
        text = " ".join(page.evaluate(VISIBLE_TEXT))
        left = sorted(latin_words(text) - kept)
        assert left == [], f"English left on {url}: {left}"


def test_the_switcher_takes_a_supporter_to_dari_and_back(page: Page, live_server):
    """A click on دری opens the Dari pages, and the front door remembers it."""
    page.goto(live_server.url + "/")
    expect_language(page, "en")
    switcher = page.get_by_role("navigation", name="Language")
    switcher.get_by_role("link", name=own_name("fa_AF"), exact=True).click()
    expect(page).to_have_url(live_server.url + "/fa/")
    expect_language(page, "fa_AF")
    with speaking(live_server.app, "fa_AF"):
        title = front_story("fa_AF").title
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    page.goto(live_server.url + "/")  # the front door, as a bookmark opens it
    expect(page).to_have_url(live_server.url + "/fa/")
    expect_language(page, "fa_AF")

    name = translated(live_server.app, "fa_AF", "Language")
    switcher = page.get_by_role("navigation", name=name)
    switcher.get_by_role("link", name=own_name("en"), exact=True).click()
    expect(page).to_have_url(live_server.url + "/")
    expect_language(page, "en")
    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/")
    expect_language(page, "en")


@pytest.mark.parametrize("path", ["/", f"/petitions/{SLUG}"])
@pytest.mark.parametrize(("locale", "prefix"), ALL)
def test_pages_fit_a_phone_without_sideways_scrolling(
    page: Page, live_server, locale, prefix, path
):
    """Nothing sticks out sideways, whichever way the text runs."""
    page.goto(live_server.url + prefix + path)
    expect_language(page, locale)
    expect_to_fit(page)


@pytest.mark.parametrize(("locale", "prefix"), ALL)
def test_front_page_screenshot_on_a_phone(
    page: Page, live_server, tmp_path, locale, prefix
):
    """The first screen of ``/`` in each language, kept when SCREENSHOTS=1."""
    page.goto(live_server.url + prefix + "/")
    expect_language(page, locale)
    page.evaluate("document.fonts.ready")
    shot = tmp_path / f"front-{locale}.png"
    page.screenshot(path=shot)
    assert shot.stat().st_size > 0
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / shot.name)
