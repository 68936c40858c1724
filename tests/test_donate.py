"""Giving: the donate page, Stripe Checkout, and what Stripe's webhook records."""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from campaign.donate.models import DonationKind, DonationState, GiftState, MonthlyGift
from campaign.donate.services import manage_url
from tests.donate_helpers import (
    ATTEMPT,
    CAMPAIGN,
    SECRET,
    charge,
    checkout_session,
    deliver,
    event,
    give,
    invoice,
    rows,
    stored_nothing,
    stripe_config,
    subscription,
    subscription_session,
)
from tests.helpers import (
    CROSS_SITE_HEADERS,
    SAME_SITE_HEADERS,
    free_port,
    refused_as_cross_site,
    sign,
    snapshot,
)
from tests.stripe_standin import running


@pytest.fixture
def standin():
    """The local stand-in for Stripe's API."""
    with running() as server:
        yield server


@pytest.fixture
def app(app_factory, standin):
    """The site with Stripe keys, talking to the stand-in."""
    return app_factory(**stripe_config(standin))


def test_the_donate_page_offers_amounts_and_monthly_giving(client, standin):
    response = client.get("/donate")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("$10", "$25", "$50", "$100", "Other amount", "Every month"):
        assert text in page
    assert "from $1 to $10,000" in page
    # The form's redirect to Checkout is allowed, and nothing else is.
    policy = response.headers["Content-Security-Policy"]
    assert f"form-action 'self' {standin.url};" in policy


# Words for organisers that a supporter must never read on a public page.
CONFIGURATION_TALK = re.compile(
    r"STRIPE|SECRET|README|webhook|environment|variable|configur|set up|dashboard",
    re.I,
)


def public_words(html: str) -> str:
    """What a supporter reads in a page's main part (tags dropped)."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"<[^>]+>", " ", main)


@pytest.mark.parametrize("prefix", ["", "/fa", "/ps"])
def test_without_stripe_the_page_offers_other_ways_to_help(app_factory, prefix):
    client = app_factory().test_client()
    page = client.get(f"{prefix}/donate").get_data(as_text=True)
    words = public_words(page)
    assert CONFIGURATION_TALK.search(words) is None, words
    assert f'href="{prefix}/#petition"' in page  # sign and share the petition
    assert f'href="{prefix}/join"' in page  # join the list
    assert '<form method="post" action="/donate/checkout"' not in page
    if not prefix:
        assert "Online giving is not available yet" in words


def test_without_stripe_a_gift_is_refused_in_the_same_words(app_factory):
    client = app_factory().test_client()
    data = {"attempt": "a" * 22, "amount": "25"}
    response = client.post("/donate/checkout", data=data | {"frequency": "one_off"})
    assert response.status_code == 503
    words = public_words(response.get_data(as_text=True))
    assert "Online giving is not available yet" in words
    assert CONFIGURATION_TALK.search(words) is None
    assert client.post("/stripe/webhook", data="{}").status_code == 503


def test_a_one_off_gift_goes_to_checkout_and_records_nothing_yet(app, client, standin):
    response = give(client, amount="50", email="ada@example.org", name="Ada")
    [call] = standin.api_calls("/v1/checkout/sessions")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{standin.url}/pay/cs_test_1"
    params = call.params
    assert params["mode"] == "payment"
    assert params["submit_type"] == "donate"
    assert params["line_items[0][price_data][unit_amount]"] == "5000"
    assert params["line_items[0][price_data][currency]"] == "usd"
    assert params["line_items[0][quantity]"] == "1"
    assert params["customer_email"] == "ada@example.org"
    assert params["metadata[campaign]"] == CAMPAIGN
    assert params["metadata[donor_name]"] == "Ada"
    assert params["payment_intent_data[metadata][campaign]"] == CAMPAIGN
    assert params["success_url"] == "http://campaign.test/donate/thanks"
    assert params["cancel_url"] == "http://campaign.test/donate/cancelled"
    assert call.idempotency_key.startswith("checkout-")
    assert stored_nothing(app)
    assert "Stripe is confirming your payment" in client.get("/donate/thanks").text
    assert "nothing was charged" in client.get("/donate/cancelled").text


def test_a_monthly_gift_is_a_subscription(client, standin):
    response = give(client, amount="other", custom_amount="12.50", frequency="monthly")
    [call] = standin.api_calls("/v1/checkout/sessions")
    assert response.status_code == 303
    assert call.params["mode"] == "subscription"
    assert call.params["line_items[0][price_data][unit_amount]"] == "1250"
    assert call.params["line_items[0][price_data][recurring][interval]"] == "month"
    assert call.params["subscription_data[metadata][campaign]"] == CAMPAIGN
    assert "customer_email" not in call.params  # Stripe asks for it


def test_sending_the_same_form_twice_opens_one_checkout(client, standin):
    page = client.get("/donate").get_data(as_text=True)
    first = give(client, attempt=_attempt(page))
    again = give(client, attempt=_attempt(page))
    keys = {call.idempotency_key for call in standin.api_calls("/v1/checkout/sessions")}
    assert first.headers["Location"] == again.headers["Location"]
    assert len(keys) == 1


def _attempt(page: str) -> str:
    """The attempt id a donate page handed out."""
    return ATTEMPT.search(page).group(1)


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ("0.50", "Give between $1 and $10,000."),
        ("10000.01", "Give between $1 and $10,000."),
        ("", "Enter the amount you want to give."),
        ("ten", "Enter an amount in numbers, like 25 or 12.50."),
        ("12.345", "Enter an amount in numbers, like 25 or 12.50."),
    ],
)
def test_amounts_outside_the_rules_are_refused_with_a_message(
    app, client, standin, custom, message
):
    response = give(client, amount="other", custom_amount=custom)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert standin.calls == []
    assert stored_nothing(app)


def test_a_made_up_preset_is_refused(app, client, standin):
    assert give(client, amount="1000000").status_code == 400
    assert standin.calls == []
    assert stored_nothing(app)


@pytest.mark.parametrize("headers", CROSS_SITE_HEADERS)
def test_a_gift_sent_from_another_site_is_refused(app, client, standin, headers):
    before = snapshot(app)
    response = give(client, headers=headers)
    assert refused_as_cross_site(response)
    assert standin.calls == []
    assert snapshot(app) == before


@pytest.mark.parametrize("headers", SAME_SITE_HEADERS)
def test_a_gift_from_our_own_page_needs_no_token(app, client, standin, headers):
    assert give(client, headers=headers).status_code == 303
    assert len(standin.api_calls("/v1/checkout/sessions")) == 1


def test_stripe_unreachable_tells_the_donor_nothing_was_charged(app_factory, standin):
    config = stripe_config(standin) | {
        "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}"
    }
    app = app_factory(**config)
    response = give(app.test_client())
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "couldn't reach our payment provider" in page
    assert "Nothing was charged" in page
    assert stored_nothing(app)


def test_stripe_failing_is_the_same_clear_message(app, client, standin):
    standin.fail_with = 500
    response = give(client)
    assert response.status_code == 503
    assert "Nothing was charged" in response.get_data(as_text=True)
    assert stored_nothing(app)


def test_a_confirmed_payment_is_recorded_once_and_receipted(app, client, inbox):
    paid = event("checkout.session.completed", checkout_session())
    for _ in range(5):
        response = deliver(client, paid)
        assert response.status_code == 200
    [donation] = rows(app)
    assert donation.state is DonationState.PAID
    assert donation.kind is DonationKind.ONE_OFF
    assert (donation.amount, donation.currency) == (2500, "usd")
    assert (donation.email, donation.name) == ("donor@example.org", "Ada Lovelace")
    assert donation.receipt_sent_at is not None
    [receipt] = inbox.to("donor@example.org")
    text = inbox.text(receipt)
    assert "Thank you for your gift of $25" in text
    assert "/donate/manage/" not in text
    assert receipt.get_body(("html",)) is not None


def test_five_deliveries_at_once_make_one_donation(app, inbox):
    paid = event("checkout.session.completed", checkout_session())

    def send(_) -> int:
        return deliver(app.test_client(), paid).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        codes = list(pool.map(send, range(5)))
    assert codes == [200] * 5
    assert len(rows(app)) == 1
    assert len(inbox.to("donor@example.org")) == 1


def test_a_confirmation_link_carries_nothing_to_the_donate_page(client, inbox, standin):
    """Whoever opens a signer's link (a forwarded email) learns nothing."""
    sign(client, name="Ada Lovelace", email="ada@example.org")
    link = inbox.link(inbox.to("ada@example.org")[0])
    thanks = client.get(
        link.removeprefix("http://campaign.test"), follow_redirects=True
    ).get_data(as_text=True)
    assert "/donate?source=petition" in thanks
    page = client.get("/donate?source=petition").get_data(as_text=True)
    for shown in (thanks, page):
        assert "Ada" not in shown and "Lovelace" not in shown
        assert "ada@example.org" not in shown
    give(client, source="petition", email="someone@example.org")
    [call] = standin.api_calls("/v1/checkout/sessions")
    assert call.params["metadata[source]"] == "petition"
    assert "metadata[supporter]" not in call.params


def test_replays_are_answered_but_change_nothing(app, client, inbox):
    paid = event("checkout.session.completed", checkout_session())
    assert deliver(client, paid).get_json() == {"received": "applied"}
    assert deliver(client, paid).get_json() == {"received": "replay"}
    assert len(rows(app)) == 1 and len(inbox.messages) == 1


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "changed byte", "stale", "no header", "not json", "not an event"],
)
def test_a_bad_signature_is_refused_and_stores_nothing(app, client, inbox, how):
    body = json.dumps(event("checkout.session.completed", checkout_session()))
    if how == "wrong secret":
        response = deliver(client, body, secret="whsec_someone_else")
    elif how == "changed byte":
        header = deliver_header(body)
        response = post_raw(client, body.replace("2500", "2501"), header)
    elif how == "stale":
        response = deliver(client, body, timestamp=int(time.time()) - 600)
    elif how == "no header":
        response = client.post("/stripe/webhook", data=body)
    elif how == "not json":
        response = deliver(client, "not json")
    else:
        response = deliver(client, json.dumps({"object": "event"}))
    assert response.status_code == 400
    assert stored_nothing(app)
    assert inbox.messages == []


def deliver_header(body: str) -> str:
    """A valid signature header for a body."""
    return stripe.WebhookSignature.generate_signature_header(body, SECRET)


def post_raw(client, body: str, header: str):
    """POST a body with a given signature header."""
    return client.post(
        "/stripe/webhook", data=body, headers={"Stripe-Signature": header}
    )


def test_a_payment_that_settles_later_is_receipted_when_it_does(app, client, inbox):
    waiting = checkout_session(payment_status="unpaid")
    deliver(client, event("checkout.session.completed", waiting))
    [donation] = rows(app)
    assert donation.state is DonationState.PENDING and inbox.messages == []
    settled = checkout_session(payment_status="paid")
    deliver(client, event("checkout.session.async_payment_succeeded", settled))
    [donation] = rows(app)
    assert donation.state is DonationState.PAID
    assert len(inbox.to("donor@example.org")) == 1


def test_a_payment_that_fails_later_is_marked_failed(app, client, inbox):
    waiting = checkout_session(payment_status="unpaid")
    deliver(client, event("checkout.session.async_payment_failed", waiting))
    deliver(client, event("checkout.session.completed", waiting))
    [donation] = rows(app)
    assert donation.state is DonationState.FAILED
    assert inbox.messages == []


def test_a_refund_before_the_payment_event_still_ends_refunded(app, client, inbox):
    deliver(client, event("charge.refunded", charge("pi_test_1")))
    deliver(client, event("checkout.session.completed", checkout_session()))
    [donation] = rows(app)
    assert donation.state is DonationState.REFUNDED
    assert donation.checkout_session_id == "cs_test_1"
    assert donation.paid_at is not None and donation.refunded_amount == 2500
    assert inbox.messages == []  # refunded before we knew: no receipt


def test_partial_then_full_refunds_update_the_right_donation(app, client):
    deliver(client, event("checkout.session.completed", checkout_session(1)))
    deliver(client, event("checkout.session.completed", checkout_session(2)))
    deliver(client, event("charge.refunded", charge("pi_test_2", refunded_amount=500)))
    first, second = rows(app)
    assert first.state is DonationState.PAID and first.refunded_amount == 0
    assert second.state is DonationState.PAID and second.refunded_amount == 500
    deliver(client, event("charge.refunded", charge("pi_test_2")))
    first, second = rows(app)
    assert second.state is DonationState.REFUNDED and second.refunded_amount == 2500


def test_a_monthly_gift_records_each_paid_month(app, client, inbox, standin):
    deliver(client, event("checkout.session.completed", subscription_session()))
    deliver(client, event("invoice.paid", invoice(month=1)))
    deliver(client, event("invoice.paid", invoice(month=1)))  # a new event id
    deliver(client, event("invoice.paid", invoice(month=2)))
    [gift] = rows(app, MonthlyGift)
    assert (gift.state, gift.amount, gift.customer_id) == (
        GiftState.ACTIVE,
        1000,
        "cus_test_1",
    )
    months = rows(app)
    assert [d.invoice_id for d in months] == ["in_test_1_1", "in_test_1_2"]
    assert all(d.kind is DonationKind.MONTHLY for d in months)
    assert all(d.state is DonationState.PAID for d in months)
    receipts = inbox.to("monthly@example.org")
    assert len(receipts) == 2
    link = inbox.link(receipts[0], r"/donate/manage/")
    assert "monthly gift of $10" in inbox.text(receipts[0])

    response = client.get(link.removeprefix("http://campaign.test"))
    [call] = standin.api_calls("/v1/billing_portal/sessions")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{standin.url}/portal/cus_test_1"
    assert call.params["customer"] == "cus_test_1"
    assert call.params["return_url"] == "http://campaign.test/donate"


def test_a_cancelled_monthly_gift_stays_cancelled(app, client):
    deliver(client, event("customer.subscription.deleted", subscription()))
    deliver(client, event("checkout.session.completed", subscription_session()))
    deliver(client, event("invoice.paid", invoice()))
    [gift] = rows(app, MonthlyGift)
    assert gift.state is GiftState.CANCELLED and gift.cancelled_at is not None
    assert gift.email == "donor@example.org"
    [donation] = rows(app)
    assert donation.state is DonationState.PAID  # the month paid before it ended


def test_a_failed_month_then_a_successful_retry(app, client, inbox):
    deliver(client, event("invoice.payment_failed", invoice(amount_paid=0)))
    [donation] = rows(app)
    assert donation.state is DonationState.FAILED and donation.amount == 1000
    assert inbox.messages == []
    deliver(client, event("invoice.paid", invoice()))
    deliver(client, event("invoice.payment_failed", invoice(amount_paid=0)))  # late
    [donation] = rows(app)
    assert donation.state is DonationState.PAID
    assert len(inbox.to("monthly@example.org")) == 1


def test_a_refunded_month_is_found_by_its_payment(app, client):
    deliver(client, event("invoice.paid", invoice()))
    deliver(client, event("charge.refunded", charge("pi_inv_1_1", amount=1000)))
    [donation] = rows(app)
    assert donation.kind is DonationKind.MONTHLY
    assert donation.state is DonationState.REFUNDED


def test_other_campaigns_and_other_events_are_acknowledged_and_ignored(app, client):
    elsewhere = checkout_session(metadata={"campaign": "another.example"})
    response = deliver(client, event("checkout.session.completed", elsewhere))
    assert response.get_json() == {"received": "ignored"}
    customer = event("customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(client, customer).get_json() == {"received": "ignored"}
    assert rows(app) == []


@pytest.mark.parametrize(
    "broken",
    [
        {"amount_total": "lots"},
        {"amount_total": 10**30},
        {"customer_details": ["not", "a", "dict"]},
        {"metadata": "campaign"},
        {"currency": 12},
    ],
)
def test_a_signed_event_with_unreadable_fields_is_refused_and_stores_nothing(
    app, client, inbox, broken
):
    session = checkout_session(**broken)
    response = deliver(client, event("checkout.session.completed", session))
    assert response.status_code == 400
    assert "could not be read" in response.get_json()["error"]
    assert stored_nothing(app)
    assert inbox.messages == []


def test_a_signed_event_with_an_unreadable_date_is_refused(app, client):
    broken = event("checkout.session.completed", checkout_session())
    broken["created"] = "yesterday"
    assert deliver(client, broken).status_code == 400
    assert stored_nothing(app)


def test_large_events_are_accepted(app, client):
    big = checkout_session(metadata={"campaign": CAMPAIGN, "note": "x" * 40_000})
    assert deliver(client, event("checkout.session.completed", big)).status_code == 200
    assert len(rows(app)) == 1


def test_a_broken_or_old_manage_link_says_so(app, client):
    assert client.get("/donate/manage/not-a-token").status_code == 404
    with app.app_context():
        link = manage_url("cus_test_1").removeprefix("http://campaign.test")
    app.config["DONATION_MANAGE_LINK_MAX_AGE"] = -1
    response = client.get(link)
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_the_manage_link_with_stripe_down_says_nothing_changed(app, client, standin):
    with app.app_context():
        link = manage_url("cus_test_1").removeprefix("http://campaign.test")
    standin.fail_with = 503
    response = client.get(link)
    assert response.status_code == 503
    assert "couldn't reach our payment provider" in response.get_data(as_text=True)
