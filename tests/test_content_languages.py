"""The story and the petition in each language: translations, marked as such
and linked to the English original, which stays word for word as published."""

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from campaign.cli import seed_content
from campaign.extensions import db
from campaign.localised import translation_files
from campaign.petition.models import Petition, PetitionState, PetitionTranslation
from campaign.story.models import StoryTranslation
from campaign.text import CONTENT_DIR, read_content
from tests.helpers import SLUG
from tests.test_story import article_paragraphs, visible_text

LANGUAGES = ["en", "fa_AF", "ps"]
PREFIXES = {"en": "", "fa_AF": "/fa", "ps": "/ps"}  # where each language's pages live
STORY_SLUG = "russia-recognizes-taliban"

# Small stand-ins for the real Dari content (the real files are tested below).
STORY_FA = f"""---
translation_of: {STORY_SLUG}
title: "عنوان آزمایشی داستان"
kicker: "افغانستان"
summary: "خلاصهٔ آزمایشی"
sources:
  - رویترز
---

متن آزمایشی داستان، با <script>alert(1)</script> که **پاک** می‌شود.
"""
PETITION_FA = f"""---
translation_of: {SLUG}
title: "عنوان آزمایشی دادخواست"
target: "دولت‌ها"
---

متن آزمایشی دادخواست.
"""


@pytest.fixture
def content(tmp_path) -> Path:
    """A content folder: the English originals plus a Dari test translation."""
    folder = tmp_path / "content"
    folder.mkdir()
    for name in ("story.md", "petition.md"):
        shutil.copy(CONTENT_DIR / name, folder / name)
    (folder / "story.fa_AF.md").write_text(STORY_FA, encoding="utf-8")
    (folder / "petition.fa_AF.md").write_text(PETITION_FA, encoding="utf-8")
    return folder


def load(app, folder: Path) -> None:
    """Replace whatever translations were seeded with those in ``folder``."""
    with app.app_context():
        db.session.execute(sa.delete(StoryTranslation))
        db.session.execute(sa.delete(PetitionTranslation))
        db.session.commit()
        seed_content(folder)


@pytest.fixture
def client(app_factory, content):
    """A visitor on a site in three languages with the Dari test content."""
    app = app_factory(LANGUAGES=LANGUAGES)
    load(app, content)
    return app.test_client()


def page(client, path: str, locale: str) -> str:
    """A page in ``locale``."""
    response = client.get(PREFIXES[locale] + path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def sign_in(client, locale: str, **fields):
    """Sign on the petition's page in ``locale``."""
    data = {"name": "Malalai Joya", "email": "malalai@example.org", "country": "AF"}
    return client.post(f"{PREFIXES[locale]}/petitions/{SLUG}/sign", data=data | fields)


def test_story_page_in_dari_shows_the_translation(client):
    html = page(client, "/", "fa_AF")
    assert '<html lang="fa-AF" dir="rtl">' in html
    assert "عنوان آزمایشی داستان" in html and "متن آزمایشی داستان" in html
    assert "<script>alert" not in html  # through the Markdown sanitiser
    assert "Russia Becomes First Major Country" not in visible_text(
        html.split('class="translation-notice"')[0]
    )
    assert "رویترز" in html and "Reuters" not in html  # the sources, as written
    # The petition beside it is in Dari too.
    assert "عنوان آزمایشی دادخواست" in html


def test_a_translation_links_to_the_english_original(client):
    html = page(client, "/", "fa_AF")
    notice = html.split('class="translation-notice"', 1)[1].split("</p>", 1)[0]
    assert 'href="/" hreflang="en"' in notice
    assert '<cite lang="en" dir="ltr">Russia Becomes First Major Country' in notice
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english
    assert "translation-notice" not in english


def test_petition_page_in_dari_shows_the_translation(client):
    html = page(client, f"/petitions/{SLUG}", "fa_AF")
    assert "عنوان آزمایشی دادخواست" in html and "متن آزمایشی دادخواست" in html
    assert "دولت‌ها" in html
    assert f'href="/petitions/{SLUG}" hreflang="en"' in html
    # The thank-you and check-your-email pages name it in Dari as well.
    assert "عنوان آزمایشی دادخواست" in page(
        client, f"/petitions/{SLUG}/thanks", "fa_AF"
    )
    check = page(client, f"/petitions/{SLUG}/check-email", "fa_AF")
    assert "عنوان آزمایشی دادخواست" in check


def test_english_stays_word_for_word(client):
    text = visible_text(client.get("/").get_data(as_text=True))
    for paragraph in article_paragraphs():
        assert " ".join(paragraph.split()) in text, paragraph[:60]
    assert "عنوان آزمایشی" not in text
    petition = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "No recognition for the Taliban" in petition
    assert "عنوان آزمایشی" not in petition


def test_missing_translation_falls_back_to_english_marked_as_english(client):
    html = page(client, "/", "ps")  # no Pashto in the test content
    assert '<html lang="ps" dir="rtl">' in html
    assert '<article class="story" lang="en" dir="ltr">' in html
    assert "Russia Becomes First Major Country" in html
    assert "translation-notice" not in html
    text = visible_text(html)
    assert " ".join(article_paragraphs()[0].split()) in text
    petition = page(client, f"/petitions/{SLUG}", "ps")
    assert "No recognition for the Taliban" in petition
    assert '<div class="petition-body" lang="en" dir="ltr">' in petition


def test_seed_of_translations_is_idempotent(app_factory, content):
    app = app_factory(LANGUAGES=LANGUAGES)
    load(app, content)
    (content / "story.fa_AF.md").write_text(
        STORY_FA.replace("عنوان آزمایشی داستان", "عنوان دیگر"), encoding="utf-8"
    )
    with app.app_context():
        seed_content(content)  # again, with the file changed: left as it is
        rows = db.session.scalars(sa.select(StoryTranslation)).all()
        assert [(row.locale, row.title) for row in rows] == [
            ("fa_AF", "عنوان آزمایشی داستان")
        ]
        count = sa.select(sa.func.count()).select_from(PetitionTranslation)
        assert db.session.scalar(count) == 1


def test_seeding_a_translation_refreshes_remembered_pages(app_factory, content):
    app = app_factory(
        LANGUAGES=LANGUAGES, CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30
    )
    client = app.test_client()
    with app.app_context():
        db.session.execute(sa.delete(StoryTranslation))
        db.session.execute(sa.delete(PetitionTranslation))
        db.session.commit()
    for path in ("/", f"/petitions/{SLUG}"):  # remembered in English
        assert "عنوان آزمایشی" not in page(client, path, "fa_AF")
    with app.app_context():
        seed_content(content)
    assert "عنوان آزمایشی داستان" in page(client, "/", "fa_AF")
    assert "عنوان آزمایشی دادخواست" in page(client, f"/petitions/{SLUG}", "fa_AF")


def test_a_translation_must_name_its_original(app_factory, content):
    app = app_factory(LANGUAGES=LANGUAGES)
    (content / "petition.ps.md").write_text(
        PETITION_FA.replace(SLUG, "some-other-petition"), encoding="utf-8"
    )
    with app.app_context(), pytest.raises(Exception, match="translation_of"):
        seed_content(content)


REAL = [
    (kind, locale, name)
    for kind in ("story", "petition")
    for locale, name in translation_files(CONTENT_DIR, kind)
]


@pytest.mark.parametrize(("kind", "locale", "name"), REAL)
def test_the_seeded_translations_are_shown(app_factory, kind, locale, name):
    client = app_factory(LANGUAGES=LANGUAGES).test_client()
    meta, _ = read_content(name)
    path = "/" if kind == "story" else f"/petitions/{SLUG}"
    html = page(client, path, locale)
    assert meta["title"] in html
    assert 'class="translation-notice"' in html and 'hreflang="en"' in html


def test_the_confirmation_email_names_the_petition_in_the_signers_language(
    client, inbox
):
    assert sign_in(client, "fa_AF", email="dari@example.org").status_code == 303
    [message] = inbox.to("dari@example.org")
    assert "عنوان آزمایشی دادخواست" in inbox.text(message)
    sign_in(client, "en", email="english@example.org")
    [english] = inbox.to("english@example.org")
    assert "No recognition for the Taliban's gender apartheid" in inbox.text(english)


def test_a_closed_petition_says_so_in_its_translation(client):
    with client.application.app_context():
        db.session.execute(sa.update(Petition).values(state=PetitionState.CLOSED))
        db.session.commit()
    response = sign_in(client, "fa_AF")
    assert response.status_code == 409
    assert "عنوان آزمایشی دادخواست" in response.get_data(as_text=True)
