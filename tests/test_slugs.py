"""Slugs: made from titles, checked when typed, and old ones keep working."""

import pytest

from campaign.extensions import db
from campaign.models import now_utc
from campaign.permissions import Role
from campaign.petition.services import upsert_petition
from campaign.slugs import available_slug, derive_slug, follow_slug, rename_slug
from tests.helpers import SLUG, sign, submit
from tests.test_organiser import SHARPER, add_organiser, edit_petition, log_in

OPEN = {"state": "open"}  # the edits here keep the petition taking signatures


@pytest.fixture
def editor(app, client):
    """A client signed in as an editor."""
    add_organiser(app, "editor@example.org", Role.EDITOR)
    assert log_in(client, "editor@example.org").status_code == 302
    return client


def add_petition(app, slug: str) -> int:
    """A second petition, with its own slug; return its id."""
    with app.app_context():
        meta = {"slug": slug, "title": "Another", "target": "Someone", "goal": "10"}
        petition = upsert_petition(meta, "Please.", None)
        db.session.commit()
        return petition.id


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("No recognition for the Taliban!", "no-recognition-for-the-taliban"),
        ("Café für Ñandú — now", "cafe-fur-nandu-now"),
        ("  --Girls' schools: open them--  ", "girls-schools-open-them"),
        ("2026 vote", "2026-vote"),
    ],
)
def test_a_title_gives_an_ascii_slug(title, slug):
    assert derive_slug(title) == slug


def test_a_title_without_latin_letters_gives_a_neutral_slug(app):
    with app.app_context():
        today = f"{now_utc():%Y-%m-%d}"
        assert derive_slug("مکتب‌ها را باز کنید") == f"campaign-{today}"
        assert derive_slug("ښوونځي پرانیزئ") == f"campaign-{today}"


def test_a_long_title_is_cut_at_a_word_to_120_characters():
    slug = derive_slug("education " * 40)
    assert len(slug) <= 120 and slug.endswith("education")
    assert len(derive_slug("x" * 300)) == 120


def test_a_taken_slug_gets_a_number(app):
    add_petition(app, f"{SLUG}-2")
    with app.app_context():
        assert available_slug("petition", "free-slug") == "free-slug"
        assert available_slug("petition", SLUG) == f"{SLUG}-3"
        assert available_slug("petition", "x" * 120) == "x" * 120
        # Its own slug is free to the petition that has it.
        assert available_slug("petition", SLUG, object_id=1) == SLUG


def test_renames_chain_and_a_rename_back_drops_the_redirect(app):
    with app.app_context():
        rename_slug("petition", 1, "a", "b")
        rename_slug("petition", 1, "b", "c")
        db.session.commit()
        assert follow_slug("petition", "a") == "c"
        assert follow_slug("petition", "b") == "c"
        rename_slug("petition", 1, "c", "a")
        db.session.commit()
        assert follow_slug("petition", "a") is None
        assert follow_slug("petition", "b") == "a"
        assert follow_slug("petition", "c") == "a"
        assert follow_slug("story", "b") is None  # each kind has its own
        # An old slug still leads to its petition: nobody else may take it.
        assert available_slug("petition", "b") == "b-2"


def test_a_renamed_petition_keeps_its_old_addresses(app, editor):
    response = edit_petition(editor, slug="free-them", **OPEN)
    assert response.status_code == 302
    assert response.headers["Location"] == "/organiser/petitions/free-them"
    public = app.test_client()
    assert public.get("/petitions/free-them").status_code == 200
    for old, new in [
        (f"/petitions/{SLUG}", "/petitions/free-them"),
        (f"/petitions/{SLUG}/thanks", "/petitions/free-them/thanks"),
        (f"/petitions/{SLUG}/count.json", "/petitions/free-them/count.json"),
        (f"/fa/petitions/{SLUG}", "/fa/petitions/free-them"),
    ]:
        response = public.get(old)
        assert (response.status_code, response.headers["Location"]) == (301, new)
    # A sign form from a page loaded before the rename is posted again there.
    response = sign(public)
    assert response.status_code == 308
    assert response.headers["Location"] == "/petitions/free-them/sign"
    assert public.get("/petitions/never-was").status_code == 404
    # Organisers' bookmarks lead on too.
    response = editor.get(f"/organiser/petitions/{SLUG}")
    assert (response.status_code, response.headers["Location"]) == (
        301,
        "/organiser/petitions/free-them",
    )


def test_a_cached_petition_page_follows_the_rename_at_once(app_factory):
    app = app_factory(CACHE_TYPE="SimpleCache")
    public, editor = app.test_client(), app.test_client()
    assert public.get(f"/petitions/{SLUG}").status_code == 200
    assert public.get(f"/petitions/{SLUG}/count.json").status_code == 200
    add_organiser(app, "editor@example.org", Role.EDITOR)
    assert log_in(editor, "editor@example.org").status_code == 302
    assert edit_petition(editor, slug="free-them", **OPEN).status_code == 302
    assert public.get(f"/petitions/{SLUG}").status_code == 301
    assert public.get(f"/petitions/{SLUG}/count.json").status_code == 301
    assert public.get("/petitions/free-them").status_code == 200


def test_renaming_back_serves_the_old_address_again(app, editor):
    edit_petition(editor, slug="free-them", **OPEN)
    fields = {**SHARPER, "slug": SLUG, **OPEN}
    response = submit(editor, "/organiser/petitions/free-them/edit", **fields)
    assert response.status_code == 302
    public = app.test_client()
    assert public.get(f"/petitions/{SLUG}").status_code == 200
    response = public.get("/petitions/free-them")
    assert (response.status_code, response.headers["Location"]) == (
        301,
        f"/petitions/{SLUG}",
    )


def test_another_petitions_slug_is_refused_with_a_free_one_offered(app, editor):
    add_petition(app, "other")
    response = edit_petition(editor, slug="other", **OPEN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Another petition uses this address, or used it before." in html
    assert "Try other-2." in html
    assert app.test_client().get(f"/petitions/{SLUG}").status_code == 200


def test_another_petitions_old_slug_is_refused(app, editor):
    other = add_petition(app, "other")
    with app.app_context():
        rename_slug("petition", other, "other", "other-new")
        from campaign.petition.services import get_petition

        get_petition("other").slug = "other-new"
        db.session.commit()
    response = edit_petition(editor, slug="other", **OPEN)
    assert response.status_code == 400
    assert app.test_client().get("/petitions/other").headers["Location"] == (
        "/petitions/other-new"
    )


@pytest.mark.parametrize(
    "typed",
    ["clean water", "clean--water", "-clean", "clean-", "ab_c", "خبر", "a" * 121],
)
def test_a_badly_formed_slug_is_refused_with_what_to_fix(app, editor, typed):
    response = edit_petition(editor, slug=typed, **OPEN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Use only lowercase letters a to z, digits and single hyphens" in html
    assert app.test_client().get(f"/petitions/{SLUG}").status_code == 200


def test_capitals_and_spaces_around_a_slug_are_forgiven(app, editor):
    assert edit_petition(editor, slug="  Free-Them ", **OPEN).status_code == 302
    assert app.test_client().get("/petitions/free-them").status_code == 200


def test_a_blank_slug_keeps_the_address(app, editor):
    assert edit_petition(editor, slug="", **OPEN).status_code == 302
    assert app.test_client().get(f"/petitions/{SLUG}").status_code == 200
