"""Organiser pages speak the dashboard's words: states by their labels
("Confirmed", "Waiting to send"), never the codes stored for them."""

import re

import pytest

from campaign.donate.models import DonationKind, DonationState, GiftState
from campaign.mailing.models import BroadcastState, DeliveryState, SubscriberState
from campaign.permissions import Role
from campaign.petition.models import SignatureState
from tests.helpers import SLUG, sign
from tests.test_broadcasts import add_subscribers, people, send_now, write
from tests.test_organiser import add_organiser, log_in

# Every state's stored code (with _ read as a space, as a reader would see it).
CODES = {
    member.value.replace("_", " ")
    for states in (
        SignatureState,
        DonationState,
        DonationKind,
        GiftState,
        BroadcastState,
        DeliveryState,
        SubscriberState,
    )
    for member in states
}


def shown_words(html: str) -> set[str]:
    """Each piece of text a reader sees on its own: option texts, table cells,
    labels, and the runs of text between tags."""
    main = html[html.index("<main") : html.index("</main>")]
    return {
        piece.strip(" ·:\n")
        for piece in re.split(r"<[^>]+>", main)
        if piece.strip(" ·:\n")
    }


def codes_on(html: str) -> set[str]:
    """The stored state codes (lowercase, as stored) a page shows as words of
    their own; labels start with a capital ("Pending" is a label)."""
    return shown_words(html) & CODES


@pytest.fixture
def editor(app, client):
    """A client signed in as an editor."""
    add_organiser(app, role=Role.EDITOR)
    assert log_in(client).status_code == 302
    return client


def options(html: str, name: str) -> list[str]:
    """The texts of a select's options."""
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)[0]
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_the_signature_export_offers_the_dashboards_state_names(app, editor):
    sign(app.test_client())
    html = editor.get(f"/organiser/petitions/{SLUG}").get_data(as_text=True)
    assert options(html, "state") == [
        "Any",
        "Pending",
        "Confirmed",
        "Removed",
        "Removed as abuse",
    ]
    assert codes_on(html) == set()


def test_the_donations_page_offers_labels_not_codes(editor):
    html = editor.get("/organiser/donations").get_data(as_text=True)
    assert options(html, "state") == ["Any", "Pending", "Failed", "Paid", "Refunded"]
    assert options(html, "kind") == ["Any", "One-off", "Monthly"]
    assert codes_on(html) == set()


def test_a_sent_broadcast_counts_its_copies_in_words(app, editor, inbox):
    add_subscribers(app, people(2))
    broadcast_id = write(editor)
    assert send_now(editor, broadcast_id).status_code == 302
    html = editor.get(f"/organiser/broadcasts/{broadcast_id}").get_data(as_text=True)
    for label in ("Sent", "Waiting to send", "Not sent: left the list first"):
        assert f"{label}: <strong" in html
    assert codes_on(html) == set()
