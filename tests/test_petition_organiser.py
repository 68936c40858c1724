"""Organisers run petitions in the browser: create a draft, publish, close,
reopen and archive it (asking first where it matters), edit each language
version side by side with a preview, and the public pages follow at once."""

import re

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.extensions import db
from campaign.permissions import Role
from campaign.petition import lifecycle
from campaign.petition.models import Petition, PetitionState, PetitionTranslation
from campaign.revisions import ContentRevision
from tests.helpers import SLUG, csrf_token, sign, snapshot, submit
from tests.test_organiser import add_organiser, log_in

NEW = "/organiser/petitions/new"
PETITION = {
    "title": "Free the journalists",
    "target": "The Minister of Justice",
    "body_markdown": "Release **every** reporter held.",
    "goal": "500",
    "goal_mode": "fixed",
    "story_id": "",
}


@pytest.fixture
def app(app_factory):
    """The site with a cache, as in production: public pages are remembered,
    so each test also shows that a change reaches them at once."""
    return app_factory(CACHE_TYPE="SimpleCache")


@pytest.fixture
def editor(app):
    """A client signed in as an editor."""
    client = app.test_client()
    add_organiser(app, "editor@example.org", Role.EDITOR)
    assert log_in(client, "editor@example.org").status_code == 302
    return client


@pytest.fixture
def public(app):
    """A visitor with no session (their pages may come from the cache)."""
    return app.test_client()


def create(editor, **changes):
    """Fill in and send the new-petition form."""
    return submit(editor, NEW, **{**PETITION, **changes})


def state_of(app, slug: str) -> PetitionState:
    """The petition's state as stored."""
    with app.app_context():
        return db.session.scalar(sa.select(Petition.state).filter_by(slug=slug))


def act(editor, slug: str, transition: str):
    """Press a state button on the petition's organiser page (with its token)."""
    page = f"/organiser/petitions/{slug}"
    return submit(editor, f"{page}/{transition}", page=page)


def audit_actions(app) -> list[str]:
    """The audit log's action codes, oldest first."""
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry.action)))


def test_a_new_petition_is_a_draft_the_public_cannot_see(app, editor, public):
    form = editor.get(NEW)
    assert form.status_code == 200 and 'name="slug"' in form.get_data(True)
    response = create(editor)
    assert response.status_code == 302
    slug = "free-the-journalists"  # derived from the title
    assert response.headers["Location"] == f"/organiser/petitions/{slug}"
    assert state_of(app, slug) is PetitionState.DRAFT
    for path in [
        f"/petitions/{slug}",
        f"/fa/petitions/{slug}",
        f"/ps/petitions/{slug}",
    ]:
        assert public.get(path).status_code == 404
    assert public.get(f"/petitions/{slug}/count.json").status_code == 404
    assert public.get(f"/petitions/{slug}/thanks").status_code == 404
    assert sign(public, slug).status_code == 404
    # Organisers see it, marked as a draft, and may preview its public page.
    dashboard = editor.get("/organiser/").get_data(as_text=True)
    assert "Free the journalists" in dashboard and ">Draft<" in dashboard
    preview = editor.get(f"/organiser/petitions/{slug}/preview")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>every</strong>" in html
    assert "this petition is a draft" in html and 'class="sign-form"' not in html
    assert "no-store" in preview.headers["Cache-Control"]
    assert public.get(f"/organiser/petitions/{slug}/preview").status_code == 302
    assert "create-petition" in audit_actions(app)


def test_a_draft_is_not_shown_beside_its_story(app, editor, public):
    act(editor, SLUG, "close")  # the story's only other petition: closed
    create(editor, story_id="1", title="A quiet draft")
    front = public.get("/").get_data(as_text=True)
    assert "A quiet draft" not in front
    assert "No recognition for the Taliban" in front  # the closed one instead
    assert "This petition is closed." in front


def test_the_address_is_chosen_or_derived_and_never_shared(app, editor):
    assert create(editor, slug="Free-Them").status_code == 302
    assert create(editor).status_code == 302
    assert create(editor).status_code == 302  # same title: a new address
    with app.app_context():
        slugs = set(db.session.scalars(sa.select(Petition.slug)))
    assert {"free-them", "free-the-journalists", "free-the-journalists-2"} <= slugs
    taken = create(editor, slug="free-them")
    assert taken.status_code == 400
    assert "Another petition uses this address" in taken.get_data(as_text=True)
    assert "Try free-them-2." in taken.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "free them!"}, "Use only lowercase letters a to z"),
        ({"slug": "new"}, "That address is used by the site"),
        ({"title": ""}, "Give the petition a title."),
        ({"target": ""}, "Say whom the petition asks."),
        ({"goal": "lots"}, "Set a goal."),
        ({"goal_mode": "sideways"}, "Choose one of the options."),
        ({"story_id": "999"}, "Choose one of the options."),
    ],
)
def test_a_new_petition_with_bad_values_is_refused(app, editor, changes, message):
    before = snapshot(app)
    response = create(editor, **changes)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_publish_close_reopen_archive(app, editor, public):
    create(editor, slug="free-them")
    page = "/petitions/free-them"
    assert public.get(page).status_code == 404
    assert act(editor, "free-them", "publish").status_code == 303
    html = public.get(page).get_data(as_text=True)
    assert 'class="sign-form"' in html and "This petition is closed." not in html
    # Closing asks first: the page that asks changes nothing.
    ask = editor.get("/organiser/petitions/free-them/close")
    assert ask.status_code == 200 and "Close this petition?" in ask.get_data(True)
    assert state_of(app, "free-them") is PetitionState.OPEN
    assert act(editor, "free-them", "close").status_code == 303
    html = public.get(page).get_data(as_text=True)
    assert "This petition is closed." in html and "It closed on" in html
    assert 'class="sign-form"' not in html
    assert "Free the journalists" in html  # still readable, with its count
    assert public.get(f"{page}/count.json").get_json()["count"] == 0
    assert "This petition is closed" in sign(public, "free-them").get_data(True)
    assert sign(public, "free-them").status_code == 409
    # Reopened, it takes signatures again.
    assert act(editor, "free-them", "reopen").status_code == 303
    assert 'class="sign-form"' in public.get(page).get_data(as_text=True)
    assert sign(public, "free-them").status_code == 303
    act(editor, "free-them", "close")
    ask = editor.get("/organiser/petitions/free-them/archive")
    assert "Archive this petition?" in ask.get_data(as_text=True)
    assert act(editor, "free-them", "archive").status_code == 303
    assert state_of(app, "free-them") is PetitionState.ARCHIVED
    html = public.get(page).get_data(as_text=True)
    assert "This petition is closed." in html and 'class="sign-form"' not in html
    assert sign(public, "free-them").status_code == 409
    assert audit_actions(app)[-5:] == [
        "publish-petition",
        "close-petition",
        "reopen-petition",
        "close-petition",
        "archive-petition",
    ]
    log = audit_actions(app)
    assert log.count("publish-petition") == 1


@pytest.mark.parametrize(
    ("transition", "state"),
    [("publish", "open"), ("reopen", "open"), ("archive", "open")],
)
def test_a_transition_from_the_wrong_state_changes_nothing(
    app, editor, transition, state
):
    before = snapshot(app)
    response = act(editor, SLUG, transition)
    assert response.status_code == 303
    assert state_of(app, SLUG).value == state
    assert snapshot(app) == before
    flashed = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing changed: the petition is Open now." in flashed


def test_the_state_buttons_need_the_forms_token(app, editor):
    response = editor.post(f"/organiser/petitions/{SLUG}/close")
    assert response.status_code == 400
    assert state_of(app, SLUG) is PetitionState.OPEN


def test_the_organiser_page_offers_the_changes_its_state_allows(app, editor):
    page = f"/organiser/petitions/{SLUG}"
    html = editor.get(page).get_data(as_text=True)
    assert "Status: Open" in html and f"{page}/close" in html
    assert f"{page}/reopen" not in html and f"{page}/publish" not in html
    act(editor, SLUG, "close")
    html = editor.get(page).get_data(as_text=True)
    assert "Status: Closed" in html and "Closed on" in html
    assert f"{page}/reopen" in html and f"{page}/archive" in html


def test_campaign_listing_puts_open_petitions_first(app, editor):
    for slug in ("older", "newer", "hidden"):
        create(editor, slug=slug, title=slug.title())
    act(editor, "older", "publish")
    act(editor, "newer", "publish")
    act(editor, "older", "close")
    act(editor, "older", "archive")
    act(editor, "newer", "close")
    act(editor, "newer", "reopen")
    with app.test_request_context():
        listed = lifecycle.listed_petitions("en")
    assert [p.slug for p in listed] == ["newer", SLUG, "older"]
    assert [p.state.value for p in listed] == ["open", "open", "archived"]
    assert all(p.count == 0 for p in listed)
    assert listed[0].goal == 500
    with app.test_request_context():
        dari = {p.slug: p for p in lifecycle.listed_petitions("fa_AF")}
    assert dari[SLUG].locale == "fa_AF" and dari["newer"].locale == "en"


EDIT = f"/organiser/petitions/{SLUG}/edit"


def edit_fields(editor) -> dict:
    """Every field of the edit form as the page fills it in."""
    html = editor.get(EDIT).get_data(as_text=True)
    fields = dict(re.findall(r'<input [^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', html))
    for name, text in re.findall(
        r'<textarea [^>]*?name="([^"]+)"[^>]*>\s?(.*?)</textarea>', html, re.S
    ):
        fields[name] = text.replace("&#34;", '"').replace("&#39;", "'")
        fields[name] = fields[name].replace("&lt;", "<").replace("&gt;", ">")
        fields[name] = fields[name].replace("&amp;", "&")
    for name in re.findall(r'<select [^>]*?name="([^"]+)"', html):
        select = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
        fields[name] = re.search(r'<option selected value="([^"]*)"', select).group(1)
    return fields


def test_the_edit_page_shows_each_language_side_by_side(editor):
    html = editor.get(EDIT).get_data(as_text=True)
    for name in ("English", "Dari", "Pashto"):
        assert f"<legend>{name}</legend>" in html
    for locale, lang in [("fa_AF", "fa-AF"), ("ps", "ps")]:
        area = re.search(rf'<textarea [^>]*name="body_markdown_{locale}"[^>]*>', html)
        assert f'lang="{lang}"' in area.group() and 'dir="rtl"' in area.group()
    english = re.search(r'<textarea [^>]*name="body_markdown"[^>]*>', html).group()
    assert 'lang="en"' in english and 'dir="ltr"' in english
    assert "آپارتاید جنسیتی طالبان" in html  # the seeded Dari version


def test_language_versions_are_saved_and_shown_publicly(app, editor, public):
    for path in (f"/fa/petitions/{SLUG}", f"/ps/petitions/{SLUG}"):
        public.get(path)  # remembered now
    fields = edit_fields(editor)
    fields.update(
        {
            "title_fa_AF": "عنوان تازه",
            "body_markdown_fa_AF": "متن **تازه**",
            "title_ps": "",
            "target_ps": "",
            "body_markdown_ps": "",
        }
    )
    response = editor.post(EDIT, data=fields)
    assert response.status_code == 302
    dari = public.get(f"/fa/petitions/{SLUG}").get_data(as_text=True)
    assert "عنوان تازه" in dari and "متن <strong>تازه</strong>" in dari
    pashto = public.get(f"/ps/petitions/{SLUG}").get_data(as_text=True)
    assert 'id="petition-title" lang="en" dir="ltr"' in pashto  # English now
    with app.app_context():
        locales = set(db.session.scalars(sa.select(PetitionTranslation.locale)))
    assert locales == {"fa_AF"}
    log = " ".join(
        detail for (detail,) in _audit_details(app) if detail.startswith(SLUG)
    )
    assert "fa_AF version changed" in log and "ps version removed" in log
    # Each language version saved is kept in the history, after the words
    # it replaced.
    with app.app_context():
        kept = db.session.execute(
            sa.select(ContentRevision.locale, ContentRevision.fields)
            .filter_by(kind="petition")
            .order_by(ContentRevision.id)
        ).all()
    dari = [fields for locale, fields in kept if locale == "fa_AF"]
    assert len(dari) == 2 and dari[-1]["title"] == "عنوان تازه"
    assert "آپارتاید" in dari[0]["title"]  # the words before the first edit
    pashto = [fields for locale, fields in kept if locale == "ps"]
    assert pashto[-1] == {"title": "", "target": "", "body_markdown": ""}


def test_an_edit_without_a_languages_fields_leaves_that_version(app, editor):
    fields = {k: v for k, v in edit_fields(editor).items() if not k.endswith("_ps")}
    assert editor.post(EDIT, data=fields).status_code == 302
    with app.app_context():
        locales = set(db.session.scalars(sa.select(PetitionTranslation.locale)))
    assert locales == {"fa_AF", "ps"}


def _audit_details(app):
    """Every audit entry's detail."""
    with app.app_context():
        return db.session.execute(sa.select(AuditEntry.detail)).all()


def test_a_half_written_version_is_refused(app, editor):
    fields = edit_fields(editor)
    fields.update({"title_ps": "سرلیک", "target_ps": "", "body_markdown_ps": ""})
    before = snapshot(app)
    response = editor.post(EDIT, data=fields)
    assert response.status_code == 400
    assert "leave this language" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_preview_renders_each_version_without_saving(app, editor, public):
    fields = edit_fields(editor)
    fields.update(
        {
            "body_markdown": "Now **bold** <script>alert(1)</script>",
            "body_markdown_fa_AF": "متن *کج*",
            "preview": "1",
        }
    )
    before = snapshot(app)
    response = editor.post(EDIT, data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Now <strong>bold</strong>" in html and "<script>alert" not in html
    assert "متن <em>کج</em>" in html
    assert html.count("Preview (not saved)") >= 3  # English, Dari, Pashto
    assert snapshot(app) == before
    assert "Now bold" not in public.get(f"/petitions/{SLUG}").get_data(as_text=True)


@pytest.fixture
def staff(app):
    """A client signed in as staff (may look, not change)."""
    client = app.test_client()
    add_organiser(app, "staff@example.org", Role.STAFF)
    assert log_in(client, "staff@example.org").status_code == 302
    return client


def test_staff_cannot_create_edit_or_change_a_petitions_state(app, staff):
    before = snapshot(app)
    token = csrf_token(staff, f"/organiser/petitions/{SLUG}")
    assert staff.get(EDIT).status_code == 403
    assert staff.get(NEW).status_code == 403
    data = {**PETITION, "csrf_token": token}
    assert staff.post(EDIT, data=data).status_code == 403
    assert staff.post(NEW, data=data).status_code == 403
    for transition in ("publish", "close", "reopen", "archive"):
        path = f"/organiser/petitions/{SLUG}/{transition}"
        assert staff.post(path, data={"csrf_token": token}).status_code == 403
    assert snapshot(app) == before
    html = staff.get(f"/organiser/petitions/{SLUG}").get_data(as_text=True)
    assert "/close" not in html and "New petition" not in staff.get(
        "/organiser/"
    ).get_data(as_text=True)
