"""Organisers write and change stories in the browser: every language side by
side, a preview that saves nothing, publish / archive / back to draft /
feature, slugs that keep redirecting, and a revision per language per save."""

import re

import pytest
import sqlalchemy as sa

from campaign.extensions import db
from campaign.permissions import Role
from campaign.revisions import ContentRevision
from campaign.story.models import Story, StoryState, StoryTranslation
from tests.helpers import refused_as_forged, snapshot, token_in
from tests.test_organiser import add_organiser, log_in

SEEDED = "russia-recognizes-taliban"
SEEDED_TITLE = "Russia Becomes First Major Country to Recognize Taliban Regime"
EDITOR = "editor@example.org"


def opening_tag(html: str, field_id: str) -> str:
    """The opening tag of the form control with this id."""
    return re.search(rf'<(?:input|textarea)[^>]*id="{field_id}"[^>]*>', html).group(0)


def story_fields(**overrides) -> dict:
    """The story form as an organiser fills it in (English only)."""
    fields = {
        "slug": "",
        "published_on": "2026-11-30",
        "text_en-title": "Girls' schools stay shut for a fifth year",
        "text_en-kicker": "Afghanistan",
        "text_en-summary": "Another school year begins without girls.",
        "text_en-body_markdown": "Schools opened **today** for boys only.",
        "text_en-sources": "UNESCO\nReuters",
    }
    fields.update(overrides)
    return fields


def post_form(client, path: str, page: str | None = None, **fields):
    """Post a form with the CSRF token of the page it is on."""
    token = token_in(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields})


def signed_in(app, email=EDITOR, role=Role.EDITOR):
    """A client signed in as an organiser with ``role``."""
    add_organiser(app, email, role)
    client = app.test_client()
    assert log_in(client, email).status_code == 302
    return client


@pytest.fixture
def editor(app):
    """A client signed in as an editor."""
    return signed_in(app)


def create(client, **overrides):
    """Write a new story through the form; the response."""
    return post_form(client, "/organiser/stories/new", **story_fields(**overrides))


def step(client, slug: str, name: str):
    """Publish, archive, unpublish or feature a story from the list page."""
    return post_form(
        client, f"/organiser/stories/{slug}/{name}", page="/organiser/stories/"
    )


def stored(app, slug: str) -> Story | None:
    """The story row with this slug."""
    with app.app_context():
        story = db.session.scalar(sa.select(Story).filter_by(slug=slug))
        if story is not None:
            db.session.expunge(story)
        return story


def test_an_editor_writes_a_story_saved_as_a_hidden_draft(app, editor):
    response = create(editor)
    slug = "girls-schools-stay-shut-for-a-fifth-year"  # derived from the title
    assert response.status_code == 303
    assert response.headers["Location"] == f"/organiser/stories/{slug}/edit"
    story = stored(app, slug)
    assert story.state is StoryState.DRAFT
    assert (
        story.body_html == "<p>Schools opened <strong>today</strong> for boys only.</p>"
    )
    assert story.sources == ["UNESCO", "Reuters"]
    anonymous = app.test_client()
    assert anonymous.get(f"/stories/{slug}").status_code == 404
    assert "fifth year" not in anonymous.get("/").get_data(as_text=True)
    assert "fifth year" not in anonymous.get("/campaigns").get_data(as_text=True)
    # Organisers read the draft at its address and at its preview, marked so.
    for path in (f"/stories/{slug}", f"/organiser/stories/{slug}/preview"):
        page = editor.get(path)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "only organisers can see it" in html and "fifth year" in html
    listing = editor.get("/organiser/stories/").get_data(as_text=True)
    assert "fifth year" in listing and "Draft" in listing
    # The seeded story's row names its petition, linked, with its state.
    petition = '<a href="/organiser/petitions/no-recognition-for-gender-apartheid">'
    assert petition in listing and "</bdi></a> (Open)" in listing


def test_a_second_story_with_the_same_title_gets_its_own_address(app, editor):
    create(editor)
    response = create(editor)
    assert response.status_code == 303
    assert stored(app, "girls-schools-stay-shut-for-a-fifth-year-2") is not None


def test_editing_changes_the_public_page_at_once_though_it_is_cached(app_factory):
    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30)
    visitor, editor = app.test_client(), signed_in(app)
    for path in ("/", f"/stories/{SEEDED}"):
        assert "A sharper headline" not in visitor.get(path).get_data(as_text=True)
    edit = f"/organiser/stories/{SEEDED}/edit"
    page = editor.get(edit).get_data(as_text=True)
    assert SEEDED_TITLE in page  # the form holds the saved words
    fields = story_fields(**{"slug": SEEDED, "text_en-title": "A sharper headline"})
    assert post_form(editor, edit, **fields).status_code == 303
    for path in ("/", f"/stories/{SEEDED}"):
        html = visitor.get(path).get_data(as_text=True)
        assert "<h1>A sharper headline</h1>" in html
        assert "<strong>today</strong>" in html


def test_preview_shows_the_sanitised_page_and_saves_nothing(app, editor):
    before = snapshot(app)
    body = "Read **this**.\n\n<script>alert(1)</script><a href='javascript:x'>go</a>"
    fields = story_fields(
        **{
            "slug": SEEDED,
            "text_en-body_markdown": body,
            "text_fa_AF-title": "عنوان تازه",
            "text_fa_AF-body_markdown": "متن *تازه*",
            "preview": "1",
        }
    )
    response = post_form(editor, f"/organiser/stories/{SEEDED}/edit", **fields)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Preview (not saved yet)" in html
    shown = html.split('id="preview-title"')[1]
    assert "<p>Read <strong>this</strong>.</p>" in shown
    assert "alert(1)" not in shown and "javascript:" not in shown
    assert '<article class="story-preview" lang="fa-AF" dir="rtl">' in html
    assert "<p>متن <em>تازه</em></p>" in html
    assert snapshot(app) == before  # nothing saved


def test_every_language_is_edited_side_by_side(app, editor):
    html = editor.get(f"/organiser/stories/{SEEDED}/edit").get_data(as_text=True)
    assert html.count('<fieldset class="language-column">') == 3
    for legend in (
        "In English (the original)",
        "In Dari (optional)",
        "In Pashto (optional)",
    ):
        assert f"<legend>{legend}</legend>" in html
    # Each field is marked with its language, so it is typed and read in it.
    marked = {
        "text_en-body_markdown": ("en", "ltr"),
        "text_fa_AF-body_markdown": ("fa-AF", "rtl"),
        "text_fa_AF-summary": ("fa-AF", "rtl"),
        "text_ps-title": ("ps", "rtl"),
    }
    for field_id, (lang, direction) in marked.items():
        tag = opening_tag(html, field_id)
        assert f'lang="{lang}"' in tag and f'dir="{direction}"' in tag, tag
    assert "روسیه نخستین کشور" in html  # the saved Dari translation


def test_saving_stores_each_translation_and_an_empty_one_means_none(app, editor):
    fields = story_fields(
        **{
            "slug": SEEDED,
            "text_fa_AF-title": "عنوان تازه",
            "text_fa_AF-kicker": "افغانستان",
            "text_fa_AF-summary": "خلاصه",
            "text_fa_AF-body_markdown": "متن **تازه**",
            "text_fa_AF-sources": "یونسکو",
        }
    )  # Pashto left empty: its translation is removed
    response = post_form(editor, f"/organiser/stories/{SEEDED}/edit", **fields)
    assert response.status_code == 303
    visitor = app.test_client()
    dari = visitor.get(f"/fa/stories/{SEEDED}").get_data(as_text=True)
    assert "<h1>عنوان تازه</h1>" in dari and "<strong>تازه</strong>" in dari
    assert "یونسکو" in dari
    pashto = visitor.get(f"/ps/stories/{SEEDED}").get_data(as_text=True)
    assert '<article class="story" lang="en" dir="ltr">' in pashto  # English shown
    assert "Girls&#39; schools stay shut" in pashto
    with app.app_context():
        locales = db.session.scalars(sa.select(StoryTranslation.locale)).all()
    assert locales == ["fa_AF"]


def test_a_translation_needs_a_title_and_text_or_nothing(app, editor):
    before = snapshot(app)
    fields = story_fields(**{"slug": SEEDED, "text_ps-kicker": "افغانستان"})
    response = post_form(editor, f"/organiser/stories/{SEEDED}/edit", **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Write both the title and the text in this language" in html
    assert 'href="#text_ps-title">Pashto, Title:' in html  # in the error summary
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text_en-title": ""}, "Give the story a title."),
        ({"text_en-body_markdown": ""}, "Write the story."),
        ({"slug": "Not a slug!"}, "Use only lowercase letters a to z, digits"),
        ({"published_on": "yesterday"}, "Enter a date like 2026-11-30."),
        ({"text_en-title": "x" * 301}, "Use at most 300 characters."),
        ({"text_en-title": "a\x01b"}, "Remove the invisible control characters."),
        ({"text_ps-body_markdown": "\x00"}, "Remove the invisible control characters."),
    ],
)
def test_bad_values_are_refused_with_a_message(app, editor, change, message):
    before = snapshot(app)
    response = create(editor, **change)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_renamed_story_keeps_answering_at_its_old_address(app, editor):
    fields = story_fields(slug="russia-and-the-taliban")
    edit = f"/organiser/stories/{SEEDED}/edit"
    response = post_form(editor, edit, **fields)
    assert (
        response.headers["Location"] == "/organiser/stories/russia-and-the-taliban/edit"
    )
    visitor = app.test_client()
    old = visitor.get(f"/stories/{SEEDED}")
    assert old.status_code == 301
    assert old.headers["Location"] == "/stories/russia-and-the-taliban"
    assert visitor.get(f"/fa/stories/{SEEDED}").headers["Location"] == (
        "/fa/stories/russia-and-the-taliban"
    )
    assert visitor.get("/stories/russia-and-the-taliban").status_code == 200
    # The organisers' pages of the old address lead on too.
    moved = editor.get(edit)
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/organiser/stories/russia-and-the-taliban/edit"


def test_an_old_address_of_a_draft_does_not_reveal_its_new_one(app, editor):
    create(editor, slug="first-name")
    edit = "/organiser/stories/first-name/edit"
    post_form(editor, edit, **story_fields(slug="second-name"))
    assert app.test_client().get("/stories/first-name").status_code == 404
    moved = editor.get("/stories/first-name")  # organisers may follow it
    assert moved.headers["Location"] == "/stories/second-name"


def test_an_address_another_story_has_or_had_is_refused(app, editor):
    create(editor, slug="second-story")
    before = snapshot(app)
    response = post_form(
        editor, "/organiser/stories/second-story/edit", **story_fields(slug=SEEDED)
    )
    assert response.status_code == 400
    assert "Another story has or had this address" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_every_save_records_a_revision_per_language_and_an_audit_entry(app, editor):
    create(editor, **{"text_fa_AF-title": "عنوان", "text_fa_AF-body_markdown": "متن"})
    slug = "girls-schools-stay-shut-for-a-fifth-year"
    fields = story_fields(**{"slug": slug, "text_en-title": "Second wording"})
    post_form(editor, f"/organiser/stories/{slug}/edit", **fields)  # Dari removed
    with app.app_context():
        story_id = db.session.scalar(sa.select(Story.id).filter_by(slug=slug))
        revisions = db.session.scalars(
            sa.select(ContentRevision)
            .filter_by(kind="story", object_id=story_id)
            .order_by(ContentRevision.id)
        ).all()
        saved = [(r.locale, r.fields["title"]) for r in revisions]
    assert saved == [
        ("en", "Girls' schools stay shut for a fifth year"),
        ("fa_AF", "عنوان"),
        ("en", "Second wording"),
        ("fa_AF", ""),  # the translation was removed
    ]
    admin = signed_in(app, "admin@example.org", Role.ADMIN)
    log = admin.get("/organiser/audit").get_data(as_text=True)
    assert "Wrote a story" in log and "Edited a story" in log


def test_publish_archive_and_back_to_draft(app, editor):
    create(editor, slug="second-story")
    visitor = app.test_client()
    assert step(editor, "second-story", "publish").status_code == 303
    assert visitor.get("/stories/second-story").status_code == 200
    assert "fifth year" in visitor.get("/campaigns").get_data(as_text=True)
    # The latest published story is on the front page when none is featured.
    assert "fifth year" in visitor.get("/").get_data(as_text=True)
    # Archiving asks first, on a page of its own.
    ask = editor.get("/organiser/stories/second-story/archive")
    assert "Archive this story?" in ask.get_data(as_text=True)
    assert stored(app, "second-story").state is StoryState.PUBLISHED
    archive = post_form(editor, "/organiser/stories/second-story/archive", **{})
    assert archive.status_code == 303
    page = visitor.get("/stories/second-story")
    assert page.status_code == 200
    assert "This campaign is over" in page.get_data(as_text=True)
    assert SEEDED_TITLE in visitor.get("/").get_data(as_text=True)
    unpublish = post_form(editor, "/organiser/stories/second-story/unpublish")
    assert unpublish.status_code == 303
    assert visitor.get("/stories/second-story").status_code == 404
    assert stored(app, "second-story").state is StoryState.DRAFT


def test_a_step_that_does_not_fit_the_state_changes_nothing(app, editor):
    create(editor, slug="second-story")
    before = snapshot(app)
    for name in ("archive", "feature"):  # a draft can be neither
        response = step(editor, "second-story", name)
        assert response.status_code == 409
        assert "the story&#39;s status is now Draft" in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert step(editor, "no-such-story", "publish").status_code == 404


def test_featuring_a_story_changes_the_front_page_at_once(app_factory):
    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30)
    visitor, editor = app.test_client(), signed_in(app)
    create(editor, slug="second-story", published_on="2020-01-01")
    step(editor, "second-story", "publish")
    # The seeded story is newer, so it stays on the front page ...
    assert f"<h1>{SEEDED_TITLE}</h1>" in visitor.get("/").get_data(as_text=True)
    assert "روسیه نخستین کشور" in visitor.get("/fa/").get_data(as_text=True)
    # ... until an organiser features the other one (in every language).
    assert step(editor, "second-story", "feature").status_code == 303
    for path in ("/", "/fa/"):
        html = visitor.get(path).get_data(as_text=True)
        assert "<h1>Girls&#39; schools stay shut for a fifth year</h1>" in html
    listing = editor.get("/organiser/stories/").get_data(as_text=True)
    assert "Featured on the front page" in listing
    # Featuring another moves it; only one story is featured at a time.
    step(editor, SEEDED, "feature")
    assert f"<h1>{SEEDED_TITLE}</h1>" in visitor.get("/").get_data(as_text=True)
    # A featured story taken back to draft leaves the front page at once,
    # and is featured no more.
    step(editor, "second-story", "feature")
    assert "fifth year</h1>" in visitor.get("/").get_data(as_text=True)
    post_form(editor, "/organiser/stories/second-story/unpublish")
    assert f"<h1>{SEEDED_TITLE}</h1>" in visitor.get("/").get_data(as_text=True)
    listing = editor.get("/organiser/stories/").get_data(as_text=True)
    assert "Featured on the front page" not in listing


def test_staff_may_look_but_not_change(app):
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    listing = staff.get("/organiser/stories/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert SEEDED_TITLE in html
    assert "Write a story" not in html and ">Edit<" not in html  # not offered
    before = snapshot(app)
    token = token_in(html)  # the sign-out form's
    edit = f"/organiser/stories/{SEEDED}/edit"
    assert staff.get(edit).status_code == 403
    fields = story_fields(slug=SEEDED, csrf_token=token)
    assert staff.post(edit, data=fields).status_code == 403
    for name in ("archive", "unpublish", "feature", "publish"):
        path = f"/organiser/stories/{SEEDED}/{name}"
        assert staff.post(path, data={"csrf_token": token}).status_code == 403
    assert staff.post("/organiser/stories/new", data=fields).status_code == 403
    assert snapshot(app) == before


def test_anonymous_visitors_are_sent_to_sign_in(app):
    visitor = app.test_client()
    for path in ("/organiser/stories/", "/organiser/stories/new"):
        response = visitor.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/organiser/login")


def test_steps_need_the_form_token(app, editor):
    before = snapshot(app)
    for name in ("archive", "unpublish", "feature"):
        response = editor.post(f"/organiser/stories/{SEEDED}/{name}")
        assert refused_as_forged(response)
    response = editor.post("/organiser/stories/new", data=story_fields())
    assert refused_as_forged(response)
    assert snapshot(app) == before


def test_the_first_edit_of_a_seeded_story_compares_with_its_words_before(app, editor):
    """A story loaded from content has no history yet: its first save keeps
    the words as they stood, so the history page shows what that save changed."""
    fields = story_fields(**{"slug": SEEDED, "text_en-title": "Second wording"})
    post_form(editor, f"/organiser/stories/{SEEDED}/edit", **fields)
    with app.app_context():
        story_id = db.session.scalar(sa.select(Story.id).filter_by(slug=SEEDED))
    edit_page = editor.get(f"/organiser/stories/{SEEDED}/edit").get_data(as_text=True)
    history = f"/organiser/history/story/{story_id}"
    assert f'href="{history}"' in edit_page
    html = editor.get(history).get_data(as_text=True)
    assert "First version kept" in html
    english = [row for row in html.split("<tr>") if "<td>English</td>" in row]
    assert len(english) == 2 and "Title" in english[0]  # newest first
    assert EDITOR in english[0]
