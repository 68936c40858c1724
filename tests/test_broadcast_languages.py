"""Broadcasts in several languages: each subscriber gets the version in their
language, or the English one, exactly once."""

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.mailing.models import BroadcastVersion, Subscriber
from campaign.permissions import Role
from tests.helpers import submit
from tests.test_broadcasts import add_subscribers, recipients, send_now
from tests.test_organiser import add_organiser, log_in

LANGUAGES = ["en", "fa_AF", "ps"]
DARI_SUBJECT = "خبر تازه از کارزار"
DARI_BODY = "سلام!\n\nما **موفق شدیم**."
READERS = {"dari@example.org": "fa_AF", "english@example.org": "en"}
READERS["pashto@example.org"] = "ps"  # no Pashto version: gets English


@pytest.fixture
def app(app_factory):
    """A site in English, Dari and Pashto, with one subscriber in each."""
    app = app_factory(LANGUAGES=LANGUAGES)
    add_subscribers(app, READERS)
    with app.app_context():
        for email, locale in READERS.items():
            db.session.execute(
                sa.update(Subscriber)
                .filter_by(email_key=email_hash(email))
                .values(locale=locale)
            )
        db.session.commit()
    return app


@pytest.fixture
def editor(app):
    """A client signed in as an editor."""
    client = app.test_client()
    add_organiser(app, role=Role.EDITOR)
    assert log_in(client).status_code == 302
    return client


def write(client, path="/organiser/broadcasts/new", **versions):
    """Save the broadcast form with an English text and the given versions."""
    fields = {
        "subject": "News from the campaign",
        "body_markdown": "Hello!\n\nWe **did it**.",
        "audience": "subscribers",
    }
    for locale, (subject, body) in versions.items():
        fields[f"version_{locale}-subject"] = subject
        fields[f"version_{locale}-body_markdown"] = body
    return submit(client, path, **fields)


def written(client, **versions) -> int:
    """A new broadcast's id, saved with these versions."""
    response = write(client, **versions)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_each_subscriber_gets_their_language_once(app, editor, inbox):
    broadcast_id = written(editor, fa_AF=(DARI_SUBJECT, DARI_BODY))
    assert send_now(editor, broadcast_id).status_code == 302
    assert recipients(inbox) == sorted(READERS)  # each once
    [dari] = inbox.to("dari@example.org")
    assert dari["Subject"] == DARI_SUBJECT
    html = dari.get_body(("html",)).get_content()
    assert '<html lang="fa-AF" dir="rtl">' in html
    assert "<strong>موفق شدیم</strong>" in html
    assert "موفق شدیم" in inbox.text(dari)
    for email in ("english@example.org", "pashto@example.org"):
        [english] = inbox.to(email)
        assert english["Subject"] == "News from the campaign"
        html = english.get_body(("html",)).get_content()
        assert '<html lang="en" dir="ltr">' in html and "موفق" not in html


def test_without_versions_everyone_gets_english(app, editor, inbox):
    broadcast_id = written(editor)
    send_now(editor, broadcast_id)
    subjects = {m["X-Envelope-To"]: m["Subject"] for m in inbox.messages}
    assert subjects == dict.fromkeys(READERS, "News from the campaign")


def test_the_form_offers_each_language_and_keeps_what_was_saved(app, editor):
    form = editor.get("/organiser/broadcasts/new").get_data(as_text=True)
    for locale in ("fa_AF", "ps"):
        assert f'name="version_{locale}-subject"' in form
    assert 'lang="fa-AF"' in form and 'dir="rtl"' in form
    broadcast_id = written(editor, fa_AF=(DARI_SUBJECT, DARI_BODY))
    edit = f"/organiser/broadcasts/{broadcast_id}/edit"
    assert DARI_SUBJECT in editor.get(edit).get_data(as_text=True)
    page = editor.get(f"/organiser/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert "<strong>موفق شدیم</strong>" in page  # its preview
    # Emptying both fields drops the version.
    assert write(editor, edit, fa_AF=("", "")).status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(BroadcastVersion)).all() == []


def test_a_version_needs_both_subject_and_message(app, editor):
    response = write(editor, fa_AF=(DARI_SUBJECT, ""))
    assert response.status_code == 400
    assert "Write both the subject and the message" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(BroadcastVersion)).all() == []


def test_saving_versions_is_audited(app, editor):
    broadcast_id = written(editor, fa_AF=(DARI_SUBJECT, DARI_BODY))
    with app.app_context():
        [entry] = db.session.scalars(
            sa.select(AuditEntry).filter_by(action="broadcast.save")
        ).all()
    assert entry.detail == f"broadcast {broadcast_id} (also in fa_AF)"


def test_a_test_copy_can_be_sent_in_each_language(app, editor, inbox):
    broadcast_id = written(editor, fa_AF=(DARI_SUBJECT, DARI_BODY))
    page = f"/organiser/broadcasts/{broadcast_id}"
    for locale in ("fa_AF", "en"):
        submit(editor, f"{page}/test", page=page, locale=locale)
    dari, english = inbox.to("org@example.org")
    assert DARI_SUBJECT in dari["Subject"] and dari["Subject"].startswith("[")
    assert 'dir="rtl"' in dari.get_body(("html",)).get_content()
    assert english["Subject"] == "[Test] News from the campaign"
    assert recipients(inbox) == ["org@example.org"] * 2  # no subscriber
