"""Joining and leaving the mailing list: double opt-in, consent, unsubscribe."""

import re

import pytest
import sqlalchemy as sa

from campaign.extensions import db
from campaign.mailing import services
from campaign.mailing.models import Consent, Subscriber, SubscriberState
from tests.helpers import (
    CROSS_SITE_HEADERS,
    SAME_SITE_HEADERS,
    SLUG,
    refused_as_cross_site,
    sign,
    snapshot,
    submit,
)


def join(client, page="/join", headers=None, **fields):
    """Fill in and send the sign-up form like a supporter."""
    data = {"email": "grace@example.org", "source": "join"}
    data.update(fields)
    return submit(client, "/join", page=page, headers=headers, **data)


def subscriber(app, email="grace@example.org") -> Subscriber | None:
    """The stored subscriber for an address, consents loaded."""
    with app.app_context():
        found = services.get_subscriber(email)
        if found is not None:
            found.consents  # noqa: B018 - load before the session closes
        return found


def confirm_from_inbox(client, inbox, email="grace@example.org"):
    """Click the link in the newest email to this address."""
    link = inbox.link(inbox.to(email)[-1], r"/join/confirm/")
    return client.get(link.replace("http://campaign.test", ""))


def test_the_story_page_has_a_sign_up_form(client):
    page = client.get("/").get_data(as_text=True)
    assert 'action="/join"' in page
    assert 'name="source" type="hidden" value="story"' in page
    assert "I can unsubscribe at any time." in page


def test_joining_takes_a_confirmed_click(app, client, inbox):
    response = join(client, name="Grace Hopper", country="US")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/join/check-email")
    assert subscriber(app).state is SubscriberState.PENDING

    [message] = inbox.to("grace@example.org")
    assert "confirm" in message["Subject"].lower()
    assert confirm_from_inbox(client, inbox).status_code == 303

    confirmed = subscriber(app)
    assert confirmed.state is SubscriberState.SUBSCRIBED
    assert (confirmed.name, confirmed.country) == ("Grace Hopper", "US")
    [consent] = confirmed.consents
    assert consent.source == "join"
    assert "I can unsubscribe at any time." in consent.wording
    assert consent.confirmed_at is not None
    assert client.get("/join/welcome").status_code == 200


def test_consent_records_the_form_it_came_from(app, client, inbox):
    join(client, page="/", source="story")
    [consent] = subscriber(app).consents
    assert consent.source == "story"
    assert consent.confirmed_at is None  # not until the link is clicked


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "Enter an email address like"),
        ({"email": ""}, "Enter your email address."),
        ({"name": "=HYPERLINK(1)"}, "can't start with"),
        ({"country": "XX"}, "Choose your country from the list."),
        ({"source": "elsewhere"}, "Please fix the highlighted fields."),
    ],
)
def test_bad_sign_ups_are_refused_with_a_reason(app, client, inbox, fields, message):
    response = join(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert subscriber(app) is None
    assert inbox.messages == []


@pytest.mark.parametrize("headers", CROSS_SITE_HEADERS)
def test_a_sign_up_sent_from_another_site_is_refused(app, client, inbox, headers):
    before = snapshot(app)
    response = join(client, headers=headers)
    assert refused_as_cross_site(response)
    assert snapshot(app) == before
    assert subscriber(app) is None
    assert inbox.messages == []


@pytest.mark.parametrize("headers", SAME_SITE_HEADERS)
def test_a_sign_up_from_our_own_page_needs_no_token(app, client, headers):
    assert join(client, headers=headers).status_code == 303
    assert subscriber(app).state is SubscriberState.PENDING


def test_a_repeat_sign_up_reveals_nothing(app_factory, inbox):
    app = app_factory(NOTICE_INTERVAL=0)
    client = app.test_client()
    join(client)
    confirm_from_inbox(client, inbox)
    first = join(client)
    stranger = join(client, email="someone.new@example.org")
    # The same answer whether or not the address was already on the list ...
    assert first.status_code == stranger.status_code == 303
    assert first.headers["Location"] == stranger.headers["Location"]
    # ... and the owner of the address is told, by email only.
    notice = inbox.to("grace@example.org")[-1]
    assert "already on our list" in notice["Subject"]
    assert "/preferences/" in inbox.text(notice)
    assert len(subscriber(app).consents) == 1


def test_repeat_sign_ups_do_not_flood_an_inbox(app, client, inbox):
    for _ in range(5):
        join(client)
    assert len(inbox.to("grace@example.org")) == 1


def test_sign_ups_are_rate_limited(app_factory):
    app = app_factory(JOIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert join(client).status_code == 303
    assert join(client).status_code == 303
    assert join(client).status_code == 429


def test_a_bad_confirmation_link_is_refused(client):
    assert client.get("/join/confirm/not-a-token").status_code == 404


def test_the_petition_box_is_never_ticked(client):
    page = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    [box] = re.findall(r"<input[^>]*name=\"join_list\"[^>]*>", page)
    assert "checked" not in box


def test_the_petition_opt_in_joins_once_the_signature_is_confirmed(app, client, inbox):
    sign(client, email="ada@example.org", join_list="y")
    assert subscriber(app, "ada@example.org") is None  # not before the click
    link = inbox.link(inbox.to("ada@example.org")[-1])
    client.get(link.replace("http://campaign.test", ""))
    joined = subscriber(app, "ada@example.org")
    assert joined.state is SubscriberState.SUBSCRIBED
    [consent] = joined.consents
    assert consent.source == f"petition:{SLUG}"
    assert (
        consent.wording
        == "Also add me to the mailing list: news about all our campaigns"
    )
    assert consent.confirmed_at is not None


def test_signing_without_the_box_does_not_join(app, client, inbox):
    sign(client, email="ada@example.org")
    link = inbox.link(inbox.to("ada@example.org")[-1])
    client.get(link.replace("http://campaign.test", ""))
    assert subscriber(app, "ada@example.org") is None


def subscribed(app, client, inbox, email="grace@example.org") -> str:
    """Join and confirm; return the subscriber's link token."""
    join(client, email=email)
    confirm_from_inbox(client, inbox, email)
    return subscriber(app, email).token


def test_unsubscribe_link_asks_first_then_one_post_unsubscribes(app, client, inbox):
    token = subscribed(app, client, inbox)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert subscriber(app).state is SubscriberState.SUBSCRIBED  # a GET changes nothing
    # RFC 8058: the mail client posts with no session and no CSRF token.
    fresh = app.test_client()
    response = fresh.post(
        f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert subscriber(app).state is SubscriberState.UNSUBSCRIBED
    with app.app_context():
        assert services.suppression_reason("grace@example.org") is not None
    assert fresh.post(f"/unsubscribe/{token}").status_code == 200  # idempotent


def test_unknown_unsubscribe_tokens_get_404(client):
    assert client.get("/unsubscribe/nope").status_code == 404
    assert client.post("/unsubscribe/nope").status_code == 404
    assert client.get("/preferences/nope").status_code == 404


def test_preferences_let_a_subscriber_leave_and_come_back(app, client, inbox):
    token = subscribed(app, client, inbox)
    path = f"/preferences/{token}"
    assert submit(client, path, choice="leave").status_code == 200
    assert subscriber(app).state is SubscriberState.UNSUBSCRIBED
    assert submit(client, path, choice="return").status_code == 200
    back = subscriber(app)
    assert back.state is SubscriberState.SUBSCRIBED
    assert [c.source for c in back.consents] == ["join", "preferences"]
    with app.app_context():
        assert services.suppression_reason("grace@example.org") is None


@pytest.mark.parametrize("headers", CROSS_SITE_HEADERS)
def test_preferences_sent_from_another_site_are_refused(app, client, inbox, headers):
    token = subscribed(app, client, inbox)
    before = snapshot(app)
    response = submit(client, f"/preferences/{token}", headers=headers, choice="leave")
    assert refused_as_cross_site(response)
    assert snapshot(app) == before
    assert subscriber(app).state is SubscriberState.SUBSCRIBED


def test_after_unsubscribing_a_new_sign_up_needs_a_new_click(app_factory, inbox):
    app = app_factory(NOTICE_INTERVAL=0)
    client = app.test_client()
    token = subscribed(app, client, inbox)
    app.test_client().post(f"/unsubscribe/{token}")
    join(client)
    assert subscriber(app).state is SubscriberState.UNSUBSCRIBED
    confirm_from_inbox(client, inbox)
    assert subscriber(app).state is SubscriberState.SUBSCRIBED


@pytest.mark.parametrize("kind", ["hard", "complaint"])
def test_a_hard_bounce_or_complaint_suppresses_for_good(app, client, inbox, kind):
    token = subscribed(app, client, inbox)
    with app.app_context():
        services.record_bounce("Grace@Example.org", kind)
    assert subscriber(app).state is SubscriberState.UNSUBSCRIBED
    inbox.messages.clear()
    join(client)  # signing up again sends nothing
    assert inbox.messages == []
    response = submit(client, f"/preferences/{token}", choice="return")
    assert response.status_code == 409
    assert subscriber(app).state is SubscriberState.UNSUBSCRIBED


def test_soft_bounces_are_counted_not_suppressed(app, client, inbox):
    subscribed(app, client, inbox)
    with app.app_context():
        assert services.record_bounce("grace@example.org", "soft") is None
        assert services.record_bounce("grace@example.org", "soft") is None
    assert subscriber(app).soft_bounces == 2
    assert subscriber(app).state is SubscriberState.SUBSCRIBED


def test_the_suppression_list_holds_no_readable_address(app, client, inbox):
    token = subscribed(app, client, inbox)
    app.test_client().post(f"/unsubscribe/{token}")
    with app.app_context():
        keys = db.session.execute(sa.text("SELECT * FROM suppression")).all()
        assert keys and all("grace" not in str(row) for row in keys)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Consent)) == 1
