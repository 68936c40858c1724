"""The campaign story at ``/``: the article word for word, and the site around it."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

from campaign.extensions import db
from campaign.petition.models import Petition
from campaign.story.models import Story
from tests.helpers import SLUG, free_port

# A copy of ../shared/seed/article.txt, the article as published.
ARTICLE = Path(__file__).parent / "data" / "article.txt"


def visible_text(html: str) -> str:
    """Page text with tags removed and whitespace folded."""
    text = re.sub(r"<[^>]+>", " ", html)
    return " ".join(text.split())


def article_paragraphs() -> list[str]:
    """The seed article's paragraphs, without its first line and last two."""
    lines = ARTICLE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()][1:-2]


class Resources(HTMLParser):
    """Collects what a page loads: scripts, stylesheets, images, frames."""

    def __init__(self):
        super().__init__()
        self.loaded: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        """Record every URL the browser would fetch by itself."""
        attrs = dict(attrs)
        if tag == "script":
            if attrs.get("src"):
                self.loaded.append(attrs["src"])
            else:
                self.inline_scripts += 1
        elif tag == "link" and attrs.get("rel") in {"stylesheet", "icon", "preload"}:
            self.loaded.append(attrs["href"])
        elif tag in {"img", "iframe", "audio", "video", "source"} and attrs.get("src"):
            self.loaded.append(attrs["src"])


def test_story_is_served_word_for_word(client):
    html = client.get("/").get_data(as_text=True)
    text = visible_text(html)
    for paragraph in article_paragraphs():
        assert " ".join(paragraph.split()) in text, paragraph[:60]


def test_story_keeps_its_structure(client):
    html = client.get("/").get_data(as_text=True)
    title = "Russia Becomes First Major Country to Recognize Taliban Regime"
    assert f"<h1>{title}</h1>" in html
    assert "Afghanistan · Global" in html
    assert '<time datetime="2025-07-03">July 3, 2025</time>' in html
    assert len(re.findall(r"<h2>", html)) >= 4
    assert "<h2>Strategic Shift Framed as Pragmatism</h2>" in html
    assert re.search(r"<blockquote>\s*<p>“A devastating day", html)
    assert "Sources: Reuters; TASS" in visible_text(html)


@pytest.mark.parametrize(
    "path", ["/", f"/petitions/{SLUG}", f"/petitions/{SLUG}/check-email", "/donate"]
)
def test_every_page_has_the_donate_banner(client, path):
    html = client.get(path).get_data(as_text=True)
    banner = '<a class="donate-banner" href="/donate">Support the ERA</a>'
    assert banner in html


def test_error_pages_have_the_banner_too(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Support the ERA" in response.get_data(as_text=True)


def test_banner_line_is_not_part_of_the_article(client):
    article = client.get("/").get_data(as_text=True).split('<article class="story">')[1]
    assert "Support the ERA" not in article.split("</article>")[0]
    assert "banner" not in article.split("</article>")[0]


def test_share_cards_and_canonical_url(client):
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="canonical" href="http://campaign.test/">' in html
    assert '<meta property="og:title" content="Russia Becomes First Major' in html
    assert '<meta property="og:url" content="http://campaign.test/">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert 'og:description" content="In a landmark move' in html


def test_canonical_url_ignores_the_host_header(client):
    html = client.get("/", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in html


def test_pages_load_nothing_from_other_sites_and_no_inline_script(client):
    for path in ["/", f"/petitions/{SLUG}", f"/petitions/{SLUG}/thanks", "/donate"]:
        parser = Resources()
        parser.feed(client.get(path).get_data(as_text=True))
        assert parser.loaded, path
        assert all(url.startswith("/static/") for url in parser.loaded), parser.loaded
        assert parser.inline_scripts == 0


def test_page_is_readable_on_a_phone(client):
    html = client.get("/").get_data(as_text=True)
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    with client.get("/static/css/site.css") as response:
        css = response.get_data(as_text=True)
    assert "@media (min-width:" in css  # one column unless the screen is wide


@pytest.mark.parametrize(
    ("path", "opening"),
    [
        ("/", '<html lang="en" dir="ltr">'),
        ("/ps/", '<html lang="ps" dir="rtl">'),
        ("/fa/", '<html lang="fa-AF" dir="rtl">'),
    ],
)
def test_language_and_direction_come_from_the_url(client, path, opening):
    # Pashto and Dari are written right to left. The URL names the language,
    # so the browser's Accept-Language never changes what a link opens.
    asked = {"Accept-Language": "ps, fa-AF;q=0.8"}
    assert opening in client.get(path, headers=asked).get_data(as_text=True)


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in headers  # only in production


def test_production_sends_hsts(app_factory):
    client = app_factory(HSTS=True).test_client()
    assert "max-age=" in client.get("/").headers["Strict-Transport-Security"]


def test_seed_is_idempotent(app, runner):
    for _ in range(2):
        result = runner.invoke(args=["campaign", "seed"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Story)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Petition)) == 1


def test_healthz_reports_database_and_queue(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    expected = {"database": "ok", "queue": "ok"}
    if app.config.get("REDIS_URL"):  # Redis is checked only when configured
        expected["redis"] = "ok"
    assert response.get_json() == expected


def test_healthz_fails_when_the_queue_is_unreachable(app_factory):
    app = app_factory(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["queue"] == "unreachable"


def test_blank_forms_kept_once_stay_apart_per_page_and_language(client):
    """The blank sign and join forms are kept whole once rendered, yet each
    page and language still gets its own: the story's join form says where
    it came from and asks no country, /join's asks one, and a form in Dari
    posts to the Dari page, whichever was opened first."""
    first = {path: client.get(path).get_data(as_text=True) for path in PAIRS}
    again = {path: client.get(path).get_data(as_text=True) for path in PAIRS}
    assert again == first
    story, join, dari = first["/"], first["/join"], first["/fa/"]
    assert 'name="source" type="hidden" value="story"' in story
    assert 'id="join-country"' not in story
    assert 'name="source" type="hidden" value="join"' in join
    assert 'id="join-country"' in join
    assert f'action="/fa/petitions/{SLUG}/sign"' in dari
    assert 'action="/fa/join"' in dari
    assert f'action="/petitions/{SLUG}/sign"' in story
    assert 'action="/join"' in story


# Opened in this order so each page finds the other's form kept already.
PAIRS = ("/join", "/", "/fa/", f"/petitions/{SLUG}", "/fa/join")
