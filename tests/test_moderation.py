"""Moderation with a way back: undo and restore invalidations, show again
hidden names and comments, bulk previews and confirmation, exact counts."""

import re
import threading

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.permissions import Role
from campaign.petition import moderation
from campaign.petition.models import Signature
from campaign.petition.services import confirmed_count, get_petition, recount
from tests.helpers import (
    PG_URL,
    SLUG,
    count,
    csrf_token,
    needs_postgres,
    previewed,
    sign,
)
from tests.test_care import sign_and_confirm, signed_in, states

MODERATE = f"/organiser/petitions/{SLUG}/moderate"
UNDO = f"/organiser/petitions/{SLUG}/undo"


@pytest.fixture
def staff(app):
    """A client signed in as staff."""
    return signed_in(app, "staff@example.org", Role.STAFF)


def spam_and_fine(app, inbox) -> None:
    """Two confirmed spam signatures, one pending spam, one confirmed fine."""
    sign_and_confirm(app, inbox, "a@spam.example", "b@spam.example", "c@fine.org")
    sign(app.test_client(), name="Pending Spam", email="d@spam.example")


def counts_agree(app) -> int:
    """The counter's total, checked against a recount of the signatures."""
    with app.app_context():
        counted = confirmed_count(get_petition(SLUG).id)
        assert recount(get_petition(SLUG)) == counted
    return counted


def bulk(client, mode="invalidate", **criteria):
    """Preview a bulk action, then confirm exactly what was previewed."""
    data = {"csrf_token": csrf_token(client, MODERATE), "mode": mode, **criteria}
    shown = client.post(MODERATE, data=data)
    assert shown.status_code == 200
    done = client.post(
        MODERATE, data={**data, "confirm": "y", "previewed": previewed(shown)}
    )
    assert done.status_code == 302
    return shown


def undo(client):
    """Press the Undo button on the moderation page."""
    return client.post(UNDO, data={"csrf_token": csrf_token(client, MODERATE)})


def audit_log(app) -> list[tuple[str, int]]:
    """Each audit entry's action and rows, oldest first."""
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.rows) for e in entries]


def signature_id(app, email: str) -> int:
    """The id of the signature made with this email."""
    with app.app_context():
        return db.session.scalar(
            sa.select(Signature.id).filter_by(email_hash=email_hash(email))
        )


def test_the_bulk_preview_lists_the_first_rows_and_changes_nothing(app, staff, inbox):
    spam_and_fine(app, inbox)
    data = {"csrf_token": csrf_token(staff, MODERATE), "email_domain": "spam.example"}
    html = staff.post(MODERATE, data=data).get_data(as_text=True)
    assert "3 signatures match." in html and "The first 3 of them:" in html
    assert "Pending Spam" in html and "Pending" in html
    assert 'name="confirm"' in html  # the confirmation comes with the preview
    assert count(app.test_client()) == 3
    assert audit_log(app) == []


def test_only_the_previewed_selection_is_acted_on(app, staff, inbox):
    spam_and_fine(app, inbox)
    data = {"csrf_token": csrf_token(staff, MODERATE), "email_domain": "spam.example"}
    # Confirmed without a preview: the preview comes first, nothing changes.
    blind = staff.post(MODERATE, data={**data, "confirm": "y"})
    assert "3 signatures match." in blind.get_data(as_text=True)
    assert count(app.test_client()) == 3
    # Previewed one selection, then widened it and confirmed: a new preview.
    shown = previewed(staff.post(MODERATE, data=data))
    widened = {**data, "email_domain": "fine.org", "confirm": "y", "previewed": shown}
    again = staff.post(MODERATE, data=widened)
    assert "1 signature matches." in again.get_data(as_text=True)
    assert count(app.test_client()) == 3
    assert audit_log(app) == []


def test_undo_puts_back_exactly_what_an_invalidation_took(app, staff, inbox):
    spam_and_fine(app, inbox)
    sign_and_confirm(app, inbox, "e@spam.example")
    staff.post(
        f"/organiser/signatures/{signature_id(app, 'e@spam.example')}/invalidate",
        data={"csrf_token": csrf_token(staff, MODERATE)},
    )
    bulk(staff, email_domain="spam.example")
    assert count(app.test_client()) == 1
    page = staff.get(MODERATE).get_data(as_text=True)
    assert "3 signatures invalidated." in page
    assert "Undo: put the 3 signatures back" in page
    response = undo(staff)
    assert response.status_code == 302
    assert "Undone: 3 signatures restored." in staff.get(MODERATE).get_data(True)
    assert count(app.test_client()) == 3  # e@ was removed earlier: it stays out
    assert states(app) == {
        "a@spam.example": "validated",
        "b@spam.example": "validated",
        "c@fine.org": "validated",
        "d@spam.example": "pending",  # never confirmed: back to pending, uncounted
        "e@spam.example": "invalidated",
    }
    assert counts_agree(app) == 3
    assert audit_log(app) == [
        ("invalidate", 1),
        ("invalidate", 3),
        ("undo-invalidate", 3),
    ]


def test_undoing_twice_counts_once(app, staff, inbox):
    spam_and_fine(app, inbox)
    bulk(staff, email_domain="spam.example")
    undo(staff)
    second = undo(staff)
    assert second.status_code == 302
    assert "There is nothing to undo." in staff.get(MODERATE).get_data(True)
    assert count(app.test_client()) == 3 == counts_agree(app)


def test_restoring_twice_counts_once(app, staff, inbox):
    sign_and_confirm(app, inbox, "a@spam.example", "c@fine.org")
    bulk(staff, email_domain="spam.example")
    removed = staff.get(f"{MODERATE}?list=removed").get_data(as_text=True)
    assert "Removed signatures" in removed and "(was confirmed)" in removed
    path = f"/organiser/signatures/{signature_id(app, 'a@spam.example')}/restore"
    assert f'action="{path}"' in removed
    csrf = csrf_token(staff, MODERATE)
    for _ in range(2):
        assert staff.post(path, data={"csrf_token": csrf}).status_code == 302
    assert count(app.test_client()) == 2 == counts_agree(app)
    assert audit_log(app) == [("invalidate", 1), ("restore", 1), ("restore", 0)]


def test_a_restored_pending_signature_counts_once_confirmed(app, staff, inbox):
    sign(app.test_client(), email="late@example.org")
    link = re.sub(r"^https?://[^/]+", "", inbox.link(inbox.to("late@example.org")[0]))
    bulk(staff, email_domain="example.org")
    undo(staff)
    assert count(app.test_client()) == 0  # restoring never confirms it
    assert states(app) == {"late@example.org": "pending"}
    app.test_client().get(link)  # the signer follows their link after all
    assert count(app.test_client()) == 1 == counts_agree(app)


def test_bulk_restore_previews_then_confirms(app, staff, inbox):
    spam_and_fine(app, inbox)
    bulk(staff, email_domain="spam.example")
    shown = bulk(staff, mode="restore", email_domain="spam.example")
    html = shown.get_data(as_text=True)
    assert "3 removed signatures match." in html
    assert "(was pending)" in html and "(was confirmed)" in html
    assert count(app.test_client()) == 3 == counts_agree(app)
    assert audit_log(app) == [("invalidate", 3), ("restore", 3)]


def test_the_public_count_follows_at_once_though_cached(app_factory, inbox):
    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=600)
    sign_and_confirm(app, inbox, "a@spam.example", "c@fine.org")
    assert count(app.test_client()) == 2  # now cached
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    bulk(staff, email_domain="spam.example")
    assert count(app.test_client()) == 1
    undo(staff)
    assert count(app.test_client()) == 2


def test_hidden_comments_and_names_are_found_and_shown_again(app, staff, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y", comment="Buy pills")
    sid = signature_id(app, "ada@example.org")
    csrf = csrf_token(staff, MODERATE)
    staff.post(f"/organiser/signatures/{sid}/hide-comment", data={"csrf_token": csrf})
    assert "Buy pills" not in app.test_client().get("/").get_data(as_text=True)
    assert "Undo: show the comment again" in staff.get(MODERATE).get_data(True)
    hidden = staff.get(f"{MODERATE}?list=hidden-comments").get_data(as_text=True)
    assert "Buy pills" in hidden and "Show the comment again" in hidden
    undo(staff)
    assert "Buy pills" in app.test_client().get("/").get_data(as_text=True)

    staff.post(f"/organiser/signatures/{sid}/hide", data={"csrf_token": csrf})
    assert "<bdi>Ada</bdi>" not in app.test_client().get("/").get_data(True)
    names = staff.get(f"{MODERATE}?list=hidden-names").get_data(as_text=True)
    assert "Ada Lovelace" in names
    staff.post(f"/organiser/signatures/{sid}/show", data={"csrf_token": csrf})
    assert "<bdi>Ada</bdi>" in app.test_client().get("/").get_data(True)
    assert audit_log(app) == [
        ("hide-comment", 1),
        ("undo-hide-comment", 1),
        ("hide-public", 1),
        ("show-public", 1),
    ]


def test_showing_a_name_again_never_shows_one_the_signer_kept_private(
    app, staff, inbox
):
    sign_and_confirm(app, inbox, "ada@example.org", comment="Private person")
    sid = signature_id(app, "ada@example.org")
    csrf = csrf_token(staff, MODERATE)
    for action in ("hide", "show"):
        staff.post(f"/organiser/signatures/{sid}/{action}", data={"csrf_token": csrf})
    undo(staff)
    html = app.test_client().get("/").get_data(as_text=True)
    assert "<bdi>Ada</bdi>" not in html and "Private person" not in html


def test_an_unknown_review_list_shows_the_public_comments(staff):
    response = staff.get(f"{MODERATE}?list=everything")
    assert response.status_code == 200
    assert "Public comments" in response.get_data(as_text=True)


@needs_postgres
@pytest.mark.parametrize("database_url", [PG_URL], ids=["postgresql"])
def test_racing_undos_and_restores_count_exactly(app, inbox):
    people = [f"p{n}@spam.example" for n in range(6)]
    sign_and_confirm(app, inbox, *people)
    with app.app_context():
        petition = get_petition(SLUG)
        _, key = moderation.invalidate(
            petition, moderation.Selection(email_domain="spam.example"), None
        )
    start = threading.Barrier(8)

    def race(job):
        with app.app_context():
            start.wait()
            petition = get_petition(SLUG)
            if job % 2:
                moderation.undo_invalidation(petition, key, None)
            else:
                moderation.restore(
                    petition, moderation.Selection(email_domain="spam.example"), None
                )

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count(app.test_client()) == 6 == counts_agree(app)
    restored = [rows for action, rows in audit_log(app) if action != "invalidate"]
    assert sum(restored) == 6  # each signature put back by exactly one of them
