"""Updates to signers: an editor posts news on the petition page and emails it
to the confirmed signers who asked for it, each once, in their language, with
a link that stops that petition's updates only."""

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.mailing import ledger, services
from campaign.mailing.models import Broadcast, Delivery
from campaign.mailing.signer_updates import email_update, stop_url
from campaign.mailing.tasks import resume_broadcasts
from campaign.mailing.tasks import send_broadcast as send_broadcast_task
from campaign.organiser.models import Organiser
from campaign.permissions import Role
from campaign.petition.models import (
    UPDATES_WORDING,
    ConsentPurpose,
    Petition,
    PetitionState,
    PetitionUpdate,
    Signature,
    SignatureConsent,
)
from campaign.petition.tokens import stop_updates_token
from campaign.privacy.services import erase_supporter, supporter_record
from campaign.text import render_markdown
from tests.helpers import SLUG, submit
from tests.test_broadcasts import recipients
from tests.test_organiser import add_organiser, log_in

LANGUAGES = ["en", "fa_AF", "ps"]
OTHER = "release-the-students"
DARI_TITLE = "خبر تازه: وزارت پاسخ داد"
DARI_BODY = "سلام!\n\nوزارت **پاسخ داد**."
UPDATES = f"/organiser/petitions/{SLUG}/updates"


@pytest.fixture
def app(app_factory):
    """The site in three languages, with a second open petition."""
    app = app_factory(LANGUAGES=LANGUAGES)
    with app.app_context():
        db.session.add(
            Petition(
                slug=OTHER,
                title="Release the students",
                target="The authorities",
                body_markdown="Free them.",
                body_html=render_markdown("Free them."),
                state=PetitionState.OPEN,
            )
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


def signed(app, inbox, email, confirm=True, slug=SLUG, prefix="", **boxes):
    """Sign like a supporter (ticking ``boxes``), and confirm from the email."""
    client = app.test_client()
    response = client.post(
        f"{prefix}/petitions/{slug}/sign",
        data={"name": "Ada Lovelace", "email": email, "country": "GB", **boxes},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    if confirm:
        link = inbox.link(inbox.to(email)[-1])
        assert client.get(link.replace("http://campaign.test", "")).status_code == 303


def post_update(client, title="The minister replied", **versions):
    """Post an update through the form; return its id."""
    fields = {"title": title, "body_markdown": "They **replied** today."}
    for locale, (subject, body) in versions.items():
        fields[f"version_{locale}-title"] = subject
        fields[f"version_{locale}-body_markdown"] = body
    response = submit(client, f"{UPDATES}/new", **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def email_it(client, update_id: int):
    """Confirm emailing the update (the token from a page that has one)."""
    return submit(client, f"{UPDATES}/{update_id}/email", page=f"{UPDATES}/")


def test_the_updates_box_is_unticked_and_not_the_list_box(client):
    page = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    [box] = re.findall(r"<input[^>]*name=\"wants_updates\"[^>]*>", page)
    assert "checked" not in box
    assert "Email me about this petition's progress" in page
    # The list box says it is the organisation's list, for all campaigns.
    assert "mailing list: news about all our campaigns" in page


def test_the_consent_record_keeps_the_words_shown_in_their_language(app, inbox):
    signed(app, inbox, "dari@example.org", prefix="/fa", wants_updates="y")
    signed(app, inbox, "quiet@example.org")
    with app.app_context():
        with force_locale("fa_AF"):
            dari = str(UPDATES_WORDING)
        assert dari != str(UPDATES_WORDING)  # a real translation
        [consent] = db.session.scalars(sa.select(SignatureConsent)).all()
        assert consent.purpose is ConsentPurpose.UPDATES
        assert (consent.wording, consent.locale) == (dari, "fa_AF")
        assert consent.given_at is not None
        quiet = db.session.scalar(
            sa.select(Signature).filter_by(email_hash=email_hash("quiet@example.org"))
        )
        assert quiet.wants_updates is False and quiet.consents == []


def test_the_list_box_consent_keeps_its_words_too(app, inbox):
    signed(app, inbox, "list@example.org", join_list="y")
    with app.app_context():
        subscriber = services.get_subscriber("list@example.org")
        [consent] = subscriber.consents
        assert consent.wording.startswith("Also add me to the mailing list")


def test_an_update_reaches_exactly_the_confirmed_signers_who_asked_once(
    app, editor, inbox
):
    signed(app, inbox, "wants@example.org", wants_updates="y")
    signed(app, inbox, "pending@example.org", confirm=False, wants_updates="y")
    signed(app, inbox, "quiet@example.org")
    signed(app, inbox, "listonly@example.org", join_list="y")
    signed(app, inbox, "bounced@example.org", wants_updates="y")
    signed(app, inbox, "elsewhere@example.org", slug=OTHER, wants_updates="y")
    with app.app_context():
        services.record_bounce("bounced@example.org", "hard")
    inbox.messages.clear()

    update_id = post_update(editor)
    assert inbox.messages == []  # posting alone emails nobody
    ask = editor.get(f"{UPDATES}/{update_id}/email").get_data(as_text=True)
    assert "It will go to 1 person" in ask
    assert inbox.messages == []  # the question sends nothing either
    assert email_it(editor, update_id).status_code == 302
    assert recipients(inbox) == ["wants@example.org"]

    # Every way of sending again sends nothing more.
    assert email_it(editor, update_id).status_code == 302
    with app.app_context():
        [broadcast_id] = db.session.scalars(sa.select(Broadcast.id)).all()
        send_broadcast_task.delay(broadcast_id)
        resume_broadcasts.delay()
        assert db.session.scalar(sa.select(sa.func.count(Delivery.id))) == 1
    assert recipients(inbox) == ["wants@example.org"]
    page = editor.get(f"{UPDATES}/{update_id}").get_data(as_text=True)
    assert "<strong>Sent</strong>" in page


def test_each_signer_gets_their_language_with_lang_and_dir(app, editor, inbox):
    signed(app, inbox, "dari@example.org", prefix="/fa", wants_updates="y")
    signed(app, inbox, "pashto@example.org", prefix="/ps", wants_updates="y")
    signed(app, inbox, "english@example.org", wants_updates="y")
    inbox.messages.clear()
    email_it(editor, post_update(editor, fa_AF=(DARI_TITLE, DARI_BODY)))
    assert recipients(inbox) == sorted(
        ["dari@example.org", "pashto@example.org", "english@example.org"]
    )
    [dari] = inbox.to("dari@example.org")
    assert dari["Subject"] == DARI_TITLE
    html = dari.get_body(("html",)).get_content()
    assert '<html lang="fa-AF" dir="rtl">' in html
    assert "<strong>پاسخ داد</strong>" in html
    for english in ("english@example.org", "pashto@example.org"):  # no Pashto
        [message] = inbox.to(english)
        assert message["Subject"] == "The minister replied"
        assert '<html lang="en" dir="ltr">' in message.get_body(("html",)).get_content()


def stop_link(message) -> str:
    """The one-click link of an update's copy, as a path."""
    [https] = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert https in text and https in message.get_body(("html",)).get_content()
    return https.replace("http://campaign.test", "")


def test_one_click_stops_that_petitions_updates_only(app, editor, inbox):
    signed(app, inbox, "ada@example.org", wants_updates="y", join_list="y")
    signed(app, inbox, "ada@example.org", slug=OTHER, wants_updates="y")
    inbox.messages.clear()
    email_it(editor, post_update(editor))
    [message] = inbox.messages
    path = stop_link(message)
    assert f"/petitions/{SLUG}/updates/stop/" in path

    # Opening the link only asks; the mail client's POST (no session) stops.
    anonymous = app.test_client()
    assert "Stop these emails" in anonymous.get(path).get_data(as_text=True)
    stopped = anonymous.post(path, data={"List-Unsubscribe": "One-Click"})
    assert stopped.status_code == 200
    assert "No more emails about this petition" in stopped.get_data(as_text=True)
    assert anonymous.post(path).status_code == 200  # a second click is fine
    # The link cannot stop another petition's updates.
    other = path.replace(f"/petitions/{SLUG}/", f"/petitions/{OTHER}/")
    assert anonymous.post(other).status_code == 404
    with app.app_context():
        wants = dict(
            db.session.execute(
                sa.select(Petition.slug, Signature.wants_updates).join(
                    Petition, Petition.id == Signature.petition_id
                )
            ).all()
        )
        assert wants == {SLUG: False, OTHER: True}
        # Still on the mailing list: the link is about this petition only.
        assert services.get_subscriber("ada@example.org").state.value == "subscribed"

    inbox.messages.clear()
    email_it(editor, post_update(editor, title="Second news"))
    assert inbox.messages == []
    assert "0 confirmed signers asked" in editor.get(f"{UPDATES}/").get_data(
        as_text=True
    )


def test_a_forged_stop_link_is_refused(app, client):
    path = f"/petitions/{SLUG}/updates/stop/not-a-token"
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


def test_the_public_page_shows_updates_at_once_in_its_language(app_factory):
    # With a real cache: posting must drop the pages and updates kept.
    app = app_factory(
        LANGUAGES=LANGUAGES, CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30
    )
    add_organiser(app, role=Role.EDITOR)
    editor = app.test_client()
    assert log_in(editor).status_code == 302
    client = app.test_client()
    assert "The minister replied" not in client.get(f"/petitions/{SLUG}").text
    client.get(f"/fa/petitions/{SLUG}")  # cached before the update
    post_update(editor, fa_AF=(DARI_TITLE, DARI_BODY))
    english = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "The minister replied" in english and "<strong>replied</strong>" in english
    dari = client.get(f"/fa/petitions/{SLUG}").get_data(as_text=True)
    assert DARI_TITLE in dari and "The minister replied" not in dari
    pashto = client.get(f"/ps/petitions/{SLUG}").get_data(as_text=True)
    assert '<article class="petition-update" lang="en" dir="ltr">' in pashto


def test_staff_can_read_updates_but_not_post_or_email_them(app, editor, inbox):
    signed(app, inbox, "wants@example.org", wants_updates="y")
    update_id = post_update(editor)
    inbox.messages.clear()
    add_organiser(app, email="staff@example.org", role=Role.STAFF)
    staff = app.test_client()
    assert log_in(staff, email="staff@example.org").status_code == 302
    assert staff.get(f"{UPDATES}/").status_code == 200
    page = f"{UPDATES}/{update_id}"
    assert staff.get(page).status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', staff.get(page).text)
    fields = {"csrf_token": token.group(1) if token else ""}
    posting = staff.post(
        f"{UPDATES}/new", data={**fields, "title": "t", "body_markdown": "b"}
    )
    emailing = staff.post(f"{page}/email", data=fields)
    assert posting.status_code == 403 and emailing.status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PetitionUpdate.id))) == 1
        assert db.session.get(PetitionUpdate, update_id).broadcast_id is None
    assert inbox.messages == []


def test_an_update_needs_a_title_and_text(app, editor):
    response = submit(editor, f"{UPDATES}/new", title="", body_markdown="")
    assert response.status_code == 400
    assert "Give the update a title." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PetitionUpdate.id))) == 0


def test_who_stops_or_is_suppressed_after_the_send_began_is_skipped(app, editor, inbox):
    for email in ("stays@example.org", "stops@example.org", "bounces@example.org"):
        signed(app, inbox, email, wants_updates="y")
    update_id = post_update(editor)
    inbox.messages.clear()
    with app.app_context():
        editor_account = db.session.scalar(sa.select(Organiser))
        update = db.session.get(PetitionUpdate, update_id)
        broadcast = email_update(update, editor_account)  # the ledger, not sent
        stops = db.session.scalar(
            sa.select(Signature).filter_by(email_hash=email_hash("stops@example.org"))
        )
        path = stop_url(SLUG, stop_updates_token(stops)).replace(
            "http://campaign.test", ""
        )
        services.record_bounce("bounces@example.org", "hard")
        broadcast_id = broadcast.id
    assert app.test_client().post(path).status_code == 200
    with app.app_context():
        send_broadcast_task.delay(broadcast_id)
        assert ledger.progress(broadcast_id)["skipped"] == 2
    assert recipients(inbox) == ["stays@example.org"]


def test_erasing_a_signer_keeps_the_count_of_copies_not_the_person(app, editor, inbox):
    signed(app, inbox, "erase@example.org", wants_updates="y")
    email_it(editor, post_update(editor))
    assert recipients(inbox)[-1:] == ["erase@example.org"]
    with app.app_context():
        [held] = supporter_record("erase@example.org")["signatures"]
        assert held["consents"]["petition_updates"] is True
        [wording] = held["consent_wordings"]
        assert (wording["box"], wording["language"]) == ("updates", "en")
        erase_supporter("erase@example.org", db.session.scalar(sa.select(Organiser)))
        [delivery] = db.session.scalars(sa.select(Delivery)).all()
        assert delivery.signature_id is None and delivery.state.value == "sent"
        assert db.session.scalars(sa.select(SignatureConsent)).all() == []


def test_an_update_carries_each_signers_own_withdraw_and_data_links(app, editor, inbox):
    signed(app, inbox, "ada@example.org", wants_updates="y")
    signed(app, inbox, "bob@example.org", wants_updates="y")
    inbox.messages.clear()
    assert email_it(editor, post_update(editor)).status_code == 302
    links = {}
    for email in ("ada@example.org", "bob@example.org"):
        [copy] = inbox.to(email)
        withdraw = inbox.link(copy, r"/your-data/withdraw/")
        assert "0WITHDRAW0" not in withdraw and "0TOKEN0" not in withdraw
        assert withdraw in copy.get_body(("html",)).get_content()
        data = inbox.link(copy, r"/your-data/updates/")
        links[email] = withdraw.replace("http://campaign.test", "")
        page = app.test_client().get(data.replace("http://campaign.test", ""))
        assert page.status_code == 200 and email not in page.get_data(as_text=True)
    assert links["ada@example.org"] != links["bob@example.org"]
    client = app.test_client()
    assert client.post(links["ada@example.org"]).status_code == 200
    with app.app_context():
        left = db.session.scalars(sa.select(Signature.email)).all()
    assert left == ["bob@example.org"]
