"""Every page, in every language and in its empty, error and success states,
passes axe-core's WCAG 2.2 AA and best-practice rules in Chromium with unique
ids; the keyboard finds a skip link and visible focus; a phone's first screen
of ``/`` shows the headline, the count and a way to sign."""

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from babel import Locale
from playwright.sync_api import Page
from werkzeug.serving import make_server

from campaign.cli import seed_content
from campaign.extensions import db
from campaign.urls import prefix_of
from tests.conftest import make_app
from tests.donate_helpers import stripe_config
from tests.e2e.conftest import PHONE
from tests.helpers import reset_database
from tests.site_pages import (
    ADMIN,
    LANGUAGES,
    PASSWORD,
    TWO_FACTOR,
    Data,
    organiser_paths,
    populate,
    public_paths,
)
from tests.stripe_standin import running
from tests.test_two_factor import code

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE = Axe()


@dataclass
class Site:
    """The seeded app on a local port, and what its pages are addressed by."""

    url: str
    data: Data
    rtl: list[str]


@pytest.fixture(scope="module")
def site(smtp_server, tmp_path_factory):
    """One app for the whole module: the pages are read, barely written."""
    folder = tmp_path_factory.mktemp("a11y")
    server = make_server("127.0.0.1", 0, lambda e, s: [], threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    with running() as standin:
        app = make_app(
            f"sqlite:///{folder / 'test.db'}",
            smtp_server,
            folder,
            BASE_URL=url,
            **stripe_config(standin),
        )
        with app.app_context():
            reset_database()
            db.create_all()
            seed_content()
        smtp_server.handler.messages.clear()
        data = populate(app, smtp_server.handler)
        server.app = app
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        with app.test_request_context():
            rtl = [
                lang for lang in LANGUAGES if Locale.parse(lang).text_direction == "rtl"
            ]
        yield Site(url=url, data=data, rtl=rtl)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            reset_database()
            db.engine.dispose()


def localized(path: str, lang: str) -> str:
    """The page's address in one language (``/fa/…``; English unprefixed)."""
    prefix = prefix_of(lang, LANGUAGES[0])
    return f"/{prefix}{path}" if prefix else path


@pytest.fixture(scope="module")
def tabs(site, browser, browser_context_args):
    """One tab per language and visitor (anonymous, or the signed-in admin)."""
    opened = {}

    def tab(lang: str, who: str) -> Page:
        """The tab for this language and visitor, opened on first use."""
        if (lang, who) not in opened:
            context = browser.new_context(
                **browser_context_args, locale=lang.replace("_", "-")
            )
            page = context.new_page()
            if who == "admin":
                sign_in(page, site.url + localized("/organiser/login", lang), ADMIN)
            opened[lang, who] = page
        return opened[lang, who]

    yield tab
    for page in opened.values():
        page.context.close()


def sign_in(page: Page, url: str, email: str) -> None:
    """Sign in through the form."""
    page.goto(url)
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    submit(page, "form:has(#password)")


def submit(page: Page, form: str) -> None:
    """Press a form's submit button and wait for the answer."""
    with page.expect_navigation():
        page.locator(form).locator("[type=submit]").first.click()


def post(page: Page, action: str, fields: dict) -> None:
    """Send a form the page does not show (as from an older copy of it)."""
    with page.expect_navigation():
        page.evaluate(
            """([action, fields]) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = action;
                for (const [name, value] of Object.entries(fields)) {
                    const input = document.createElement("input");
                    input.type = "hidden"; input.name = name; input.value = value;
                    form.append(input);
                }
                document.body.append(form);
                form.submit();
            }""",
            [action, fields],
        )


def csrf_of(page: Page) -> str:
    """The CSRF token of the page's first form that has one."""
    return page.locator("[name=csrf_token]").first.get_attribute("value")


Act = Callable[[Page, str, Site], None]


def fill_and_submit(form: str, **values: str) -> Act:
    """Fill fields by id, then submit ``form``."""

    def act(page: Page, lang: str, site: Site) -> None:
        """Fill and send."""
        for field_id, value in values.items():
            page.locator(f"#{field_id}").fill(value.format(lang=lang))
        submit(page, form)

    return act


def sign_in_with_wrong_code(page: Page, lang: str, site: Site) -> None:
    """Reach the code step and send a wrong code."""
    sign_in(page, page.url, TWO_FACTOR)
    right = code(site.data.two_factor_secret)
    page.locator("#code").fill(str((int(right) + 1) % 1_000_000).zfill(6))
    submit(page, "form:has(#code)")
    page.context.clear_cookies()


def sign_closed(page: Page, lang: str, site: Site) -> None:
    """Sign the closed petition from a copy of its page taken while it was open."""
    post(
        page,
        "/petitions/an-earlier-petition/sign",
        {"name": "Ada", "email": "ada@example.org", "country": "GB"},
    )


def preview_story(page: Page, lang: str, site: Site) -> None:
    """Press the story form's Preview button: the rendered text shows below."""
    with page.expect_navigation():
        page.locator("button[name=preview]").click()


def code_step(page: Page, lang: str, site: Site) -> None:
    """Sign in as the two-factor organiser: the code step follows."""
    sign_in(page, page.url, TWO_FACTOR)
    page.context.clear_cookies()


def unsubscribe(page: Page, lang: str, site: Site) -> None:
    """Press the unsubscribe button (or, once gone, send what it sends)."""
    post(page, page.url, {})


@dataclass
class Visit:
    """A page to check: where to go, then what to do there (if anything)."""

    name: str
    path: str
    who: str = "anonymous"
    act: Act | None = None


def visits() -> list[Visit]:
    """Every page in its states: GETs, and forms sent empty, wrong or right."""
    # Paths need the seeded data; the names are known without it.
    return [
        *[Visit(name, name) for name in public_paths(Data(0, "", ""))],
        Visit("petition-error", "petition", act=fill_and_submit(".sign-form")),
        Visit(
            "join-error",
            "join",
            act=fill_and_submit(".join-form", **{"join-email": "not an address"}),
        ),
        Visit(
            "donate-error",
            "donate",
            act=fill_and_submit(".donate-form", custom_amount="lots", email="nope"),
        ),
        Visit("petition-closed-sign", "petition-closed", act=sign_closed),
        Visit("unsubscribed", "unsubscribe", act=unsubscribe),
        Visit("login", "/organiser/login"),
        Visit(
            "login-error",
            "/organiser/login",
            act=fill_and_submit("form:has(#password)"),
        ),
        Visit("login-code", "/organiser/login", act=code_step),
        Visit("login-code-error", "/organiser/login", act=sign_in_with_wrong_code),
        *[Visit(name, name, who="admin") for name in organiser_paths(Data(0, "", ""))],
        Visit(
            "edit-error", "edit", "admin", fill_and_submit("form:has(#title)", title="")
        ),
        Visit("edit-saved", "edit", "admin", fill_and_submit("form:has(#title)")),
        Visit(
            "story-edit-error",
            "story-edit",
            "admin",
            fill_and_submit("form:has(#slug)", **{"text_en-title": ""}),
        ),
        Visit("story-preview", "story-edit", "admin", preview_story),
        Visit(
            "moderate-found",
            "moderate",
            "admin",
            fill_and_submit("form:has(#email_domain)", email_domain="example.org"),
        ),
        Visit(
            "broadcast-new-error",
            "broadcast-new",
            "admin",
            fill_and_submit("form:has(#subject)"),
        ),
        Visit(
            "broadcast-saved",
            "broadcast-new",
            "admin",
            fill_and_submit(
                "form:has(#subject)", subject="News {lang}", body_markdown="Hello"
            ),
        ),
        Visit(
            "broadcast-schedule-error",
            "broadcast",
            "admin",
            fill_and_submit("form:has(#send_at)"),
        ),
        Visit(
            "broadcast-confirm-send",
            "broadcast",
            "admin",
            fill_and_submit("form[action$='/send']"),
        ),
        Visit(
            "subscribers-import-error",
            "subscribers-import",
            "admin",
            fill_and_submit("form:has(#wording)", name="bad name"),
        ),
        Visit(
            "bounce-error", "broadcasts", "admin", fill_and_submit("form:has(#kind)")
        ),
        Visit(
            "supporters-found",
            "supporters",
            "admin",
            fill_and_submit("form:has(#email)", email="ada@example.org"),
        ),
        Visit(
            "supporters-error",
            "supporters",
            "admin",
            fill_and_submit("form:has(#email)", email=""),
        ),
        Visit(
            "organisers-error",
            "organisers",
            "admin",
            fill_and_submit("form:has(#password)"),
        ),
        Visit(
            "organisers-added",
            "organisers",
            "admin",
            fill_and_submit(
                "form:has(#password)",
                email="new-{lang}@example.org",
                password="a long and unusual passphrase",
            ),
        ),
        Visit(
            "password-error", "password", "admin", fill_and_submit("form:has(#current)")
        ),
        Visit(
            "settings-saved",
            "settings",
            "admin",
            fill_and_submit("form:has(#require_two_factor)"),
        ),
        Visit(
            "two-factor-error",
            "two-factor",
            "admin",
            fill_and_submit("form:has(#code)", code="000000"),
        ),
    ]


def address(visit: Visit, site: Site) -> str:
    """The path a visit starts at."""
    if visit.path.startswith("/"):
        return visit.path
    if visit.who == "admin":
        return organiser_paths(site.data)[visit.path]
    return public_paths(site.data)[visit.path]


def violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.2 AA and best-practice findings, one line each."""
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
    ]


def duplicate_ids(page: Page) -> list[str]:
    """Ids used more than once on the page."""
    return page.evaluate(
        """() => {
            const seen = {};
            document.querySelectorAll("[id]").forEach(e => {
                seen[e.id] = (seen[e.id] || 0) + 1;
            });
            return Object.keys(seen).filter(id => seen[id] > 1);
        }"""
    )


def assert_error_summary_first(page: Page, lang: str) -> None:
    """After a refused form: the title says so, focus is on the summary, in
    view, and each of its links leads to a field of the page."""
    if lang == "en":
        assert page.title().startswith("Error: ")
    summary = page.locator("[data-error-summary]")
    assert summary.evaluate("box => box === document.activeElement")
    box = summary.bounding_box()
    assert box["y"] >= 0 and box["y"] + 40 <= page.viewport_size["height"]
    targets = summary.locator("a").evaluate_all(
        "links => links.map(a => document.getElementById(a.hash.slice(1)))"
        ".map(field => field && field.matches('input, select, textarea'))"
    )
    assert targets and all(targets)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("visit", visits(), ids=lambda v: f"{v.who}-{v.name}")
def test_page_has_no_accessibility_violations(site, tabs, visit, lang):
    page = tabs(lang, visit.who)
    page.goto(site.url + localized(address(visit, site), lang))
    if visit.act:
        visit.act(page, lang, site)
    if visit.name.endswith("-error"):
        assert_error_summary_first(page, lang)
    # A phone widens its layout to fit the page: measure against the phone.
    assert page_width(page)["document"] == PHONE["width"], "wider than the screen"
    problems = [f"duplicate id {i!r}" for i in duplicate_ids(page)]
    problems += violations(page)
    assert not problems, "\n".join(problems)


def page_width(page: Page) -> dict[str, int]:
    """How wide the document is, and the screen it is on."""
    return page.evaluate(
        "() => ({document: document.documentElement.scrollWidth,"
        " screen: window.innerWidth})"
    )


@pytest.mark.parametrize("direction", ["ltr", "rtl"])
def test_the_skip_link_leads_to_the_content_in_either_direction(site, tabs, direction):
    lang = site.rtl[0] if direction == "rtl" and site.rtl else LANGUAGES[0]
    page = tabs(lang, "anonymous")
    page.goto(site.url + localized("/", lang))
    if page.evaluate("document.documentElement.dir") != direction:
        page.evaluate(f"document.documentElement.dir = '{direction}'")
    width = page_width(page)
    assert width["document"] == width["screen"] == PHONE["width"]

    page.keyboard.press("Tab")
    skip = page.locator(".skip")
    assert skip.evaluate("link => link === document.activeElement")
    box = skip.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # At the start of the line (1rem in): on the right of a right-to-left page.
    start = PHONE["width"] - box["x"] - box["width"] if direction == "rtl" else box["x"]
    assert 10 <= start <= 30
    assert page_width(page)["document"] == PHONE["width"]

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def rgb(color: str) -> tuple[float, ...]:
    """The channels of a computed ``rgb(…)`` colour."""
    return tuple(float(n) for n in re.findall(r"[\d.]+", color)[:3])


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two computed colours."""

    def luminance(color: str) -> float:
        """Relative luminance."""
        channels = [c / 255 for c in rgb(color)]
        r, g, b = (
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
            for c in channels
        )
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted([luminance(one), luminance(other)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def tab_to(page: Page, selector: str, presses: int = 30) -> None:
    """Press Tab until the element is focused, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.locator(selector).evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize(
    ("selector", "behind"),
    [
        # A ring inside the maroon banner: measured against the banner.
        (".donate-banner", ".donate-banner"),
        # A ring around a maroon button: measured against the page.
        (".jump a", "body"),
    ],
)
def test_focus_is_a_ring_that_stands_out_from_what_is_behind_it(
    site, tabs, selector, behind
):
    page = tabs(LANGUAGES[0], "anonymous")
    page.goto(site.url + "/")
    tab_to(page, selector)
    ring = page.locator(selector).evaluate(
        """e => { const s = getComputedStyle(e);
           return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                   color: s.outlineColor}; }"""
    )
    background = page.locator(behind).evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert ring["style"] == "solid" and ring["width"] >= 2
    assert contrast(ring["color"], background) >= 3


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_phone_first_screen_shows_headline_count_and_a_way_to_sign(site, tabs, lang):
    page = tabs(lang, "anonymous")
    page.goto(site.url + localized("/", lang))
    for selector in ["h1", ".jump [data-count]", ".jump a"]:
        element = page.locator(selector)
        assert element.is_visible(), selector
        box = element.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], selector
    button = page.locator(".jump a").bounding_box()
    assert button["width"] >= PHONE["width"] * 0.8  # prominent: the full width
    assert button["height"] >= 44

    page.locator(".jump a").click()
    first_field = page.locator("form.sign-form #name")
    first_field.wait_for()
    assert first_field.evaluate("e => e === document.activeElement")
    box = first_field.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
