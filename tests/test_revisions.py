"""Content history: every saved version, who saved it, and what it changed."""

import re

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.extensions import db
from campaign.organiser.models import Organiser
from campaign.organiser.services import find_organiser
from campaign.permissions import Role
from campaign.revisions import (
    ContentRevision,
    compare,
    record_revision,
    revisions_of,
    start_history,
)
from campaign.revisions.services import diff_text
from tests.helpers import SLUG
from tests.test_organiser import add_organiser, edit_petition, log_in

ORIGINAL = {"title": "Clean water now", "body_markdown": "We ask the council.\n"}
EDITED = {"title": "Clean water now", "body_markdown": "We ask the mayor.\n"}


@pytest.fixture
def staff(app, client):
    """A client signed in as staff (history is theirs to read)."""
    add_organiser(app, "staff@example.org", Role.STAFF)
    assert log_in(client, "staff@example.org").status_code == 302
    return client


def save_versions(app, *versions, locale="en", email="editor@example.org"):
    """Record the original words, then each version saved by one editor; return
    the ids of the versions saved."""
    add_organiser(app, email, Role.EDITOR)
    with app.app_context():
        editor = find_organiser(email)
        start_history("petition", 1, locale, ORIGINAL)
        saved = [
            record_revision("petition", 1, locale, fields, editor)
            for fields in versions
        ]
        db.session.commit()
        return [revision.id for revision in saved]


def text_of(html: str) -> str:
    """What a screen reader reads of a page's main part: tags dropped."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_a_version_shows_what_it_added_and_removed(app, staff):
    (revision_id,) = save_versions(app, EDITED)
    response = staff.get(f"/organiser/history/revision/{revision_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Only the changed word is marked, each mark announced in words too.
    assert re.search(
        r"<del><span class=\"visually-hidden\">\[removed: </span>"
        r"council<span",
        html,
    )
    assert re.search(
        r"<ins><span class=\"visually-hidden\">\[added: </span>"
        r"mayor<span",
        html,
    )
    assert "We ask the " in html and "<del>We" not in html
    assert "Title <small>(unchanged)</small>" in html
    assert "Saved by <bdi>editor@example.org</bdi>" in html
    assert "Compared with the words as they stood before changes" in html
    assert "no-store" in response.headers["Cache-Control"]


def test_the_history_lists_who_when_language_and_what_changed(app, staff):
    first, second = save_versions(
        app, EDITED, {**EDITED, "title": "Water for every home"}
    )
    html = staff.get("/organiser/history/petition/1").get_data(as_text=True)
    rows = re.findall(r"<tr><td>(.*?)</tr>", html, re.S)
    assert len(rows) == 3  # newest first, down to the original words
    assert f"/organiser/history/revision/{second}" in rows[0]
    assert "editor@example.org" in rows[0] and "English" in rows[0]
    assert "Title" in rows[0] and "Text (Markdown)" not in rows[0]
    assert f"/organiser/history/revision/{first}" in rows[1]
    assert "Text (Markdown)" in rows[1] and "Title" not in text_of(rows[1])
    assert "Before changes were recorded" in rows[2]
    assert "<h1>History: <bdi>Water for every home</bdi></h1>" in html


def test_each_language_compares_with_its_own_previous_version(app):
    save_versions(app, EDITED)
    dari = {"title": "آب پاک", "body_markdown": "ما از شاروالی می‌خواهیم.\n"}
    add_organiser(app, "dari@example.org", Role.EDITOR)
    with app.app_context():
        start_history("petition", 1, "fa_AF", dari)
        changed = {**dari, "title": "آب پاک همین حالا"}
        revision = record_revision(
            "petition", 1, "fa_AF", changed, find_organiser("dari@example.org")
        )
        db.session.commit()
        comparison = compare(revision)
        assert comparison.previous.locale == "fa_AF"
        title = comparison.fields[0]
        assert [(p.op, p.text) for p in title.pieces] == [
            ("same", "آب پاک"),
            ("added", " همین حالا"),
        ]
        assert not comparison.fields[1].changed
        assert len(revisions_of("petition", 1)) == 4


def test_the_first_version_kept_shows_all_its_text_as_added(app, staff):
    with app.app_context():
        revision = start_history("petition", 1, "en", ORIGINAL)
        db.session.commit()
        revision_id = revision.id
        assert start_history("petition", 1, "en", EDITED) is None  # once only
    html = staff.get(f"/organiser/history/revision/{revision_id}").get_data(
        as_text=True
    )
    assert "all its text is shown as added" in html
    assert "[added: </span>Clean water now" in html


def test_erasing_an_organiser_keeps_the_history(app, staff):
    (revision_id,) = save_versions(app, EDITED, email="leaver@example.org")
    with app.app_context():
        db.session.execute(sa.delete(Organiser).filter_by(email="leaver@example.org"))
        db.session.commit()
        revision = db.session.get(ContentRevision, revision_id)
        assert revision.fields == EDITED
    html = staff.get(f"/organiser/history/revision/{revision_id}").get_data(
        as_text=True
    )
    assert "A removed account" in html and "leaver@example.org" not in html


@pytest.mark.parametrize(
    "path", ["/organiser/history/poem/1", "/organiser/history/revision/999"]
)
def test_unknown_history_is_not_found(staff, path):
    assert staff.get(path).status_code == 404


def test_only_stories_and_petitions_keep_a_history(app):
    with app.app_context(), pytest.raises(ValueError):
        record_revision("poem", 1, "en", {"title": "x"}, None)


def test_each_petition_edit_is_kept_and_compares_with_the_last(app, client):
    add_organiser(app, "editor@example.org", Role.EDITOR)
    assert log_in(client, "editor@example.org").status_code == 302
    page = client.get(f"/organiser/petitions/{SLUG}").get_data(as_text=True)
    assert 'href="/organiser/history/petition/1">History</a>' in page
    assert edit_petition(client, state="open").status_code == 302
    assert edit_petition(client, target="Every parliament").status_code == 302
    html = client.get("/organiser/history/petition/1").get_data(as_text=True)
    rows = re.findall(r"<tr><td>(.*?)</tr>", html, re.S)
    assert len(rows) == 3  # the words before the first edit, then each edit
    assert "Addressed to" in rows[0] and "Title" not in text_of(rows[0])
    assert "editor@example.org" in rows[0] and "editor@example.org" in rows[1]
    assert "Before changes were recorded" in rows[2]
    latest = re.search(r'href="(/organiser/history/revision/\d+)"', rows[0])[1]
    compared = client.get(latest).get_data(as_text=True)
    assert "[removed: </span>government" in compared
    assert "[added: </span>parliament" in compared
    with app.app_context():
        edits = db.session.scalars(
            sa.select(AuditEntry.detail).filter_by(action="edit-petition")
        ).all()
        assert len(edits) == 2 and "target" in edits[1]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("We ask. The council must act.\n", "We ask. The mayor must act now.\n"),
        ("", "All new."),
        ("All gone.", ""),
        ("ما می‌خواهیم. شاروالی باید اقدام کند۔", "ما می‌خواهیم. والی باید اقدام کند۔"),
        ("word " * 3000, "other " * 3000),  # too long to compare word by word
    ],
)
def test_a_comparison_holds_both_versions_whole(old, new):
    pieces = diff_text(old, new)
    assert "".join(p.text for p in pieces if p.op != "added") == old
    assert "".join(p.text for p in pieces if p.op != "removed") == new
    # Neighbouring runs of one kind are merged.
    assert all(a.op != b.op for a, b in zip(pieces, pieces[1:], strict=False))
