"""Helpers for donation tests: Stripe-shaped objects, signed webhook deliveries."""

import itertools
import json
import re
import time

import sqlalchemy as sa
import stripe

from campaign.donate.models import Donation, MonthlyGift, StripeEvent
from campaign.extensions import db

SECRET = "whsec_test_secret"  # noqa: S105 - tests only
CAMPAIGN = "campaign.test"  # BASE_URL's host in the test apps
ATTEMPT = re.compile(r'name="attempt" type="hidden" value="([^"]+)"')
_numbers = itertools.count(1)


def stripe_config(standin) -> dict:
    """App settings that point the real stripe library at the stand-in."""
    return {
        "STRIPE_SECRET_KEY": "sk_test_standin",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": standin.url,
        "STRIPE_CHECKOUT_ORIGIN": standin.url,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
    }


def give(client, headers=None, **fields):
    """Fill in the donate form like a donor and send it."""
    page = client.get("/donate").get_data(as_text=True)
    data = {
        "attempt": ATTEMPT.search(page).group(1),
        "source": "banner",
        "amount": "25",
        "frequency": "one_off",
    }
    data.update(fields)
    return client.post("/donate/checkout", data=data, headers=headers)


def event(kind: str, obj: dict, event_id: str | None = None) -> dict:
    """A Stripe event wrapping one object."""
    return {
        "id": event_id or f"evt_{next(_numbers)}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "api_version": stripe.api_version,
        "data": {"object": obj},
    }


def deliver(client, payload: dict | str, secret: str = SECRET, timestamp=None):
    """POST an event to the webhook with a real Stripe-Signature header."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def checkout_session(number=1, **overrides) -> dict:
    """A completed one-off Checkout Session, paid by card."""
    session = {
        "id": f"cs_test_{number}",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "status": "complete",
        "amount_total": 2500,
        "currency": "usd",
        "customer": None,
        "payment_intent": f"pi_test_{number}",
        "subscription": None,
        "customer_details": {"email": "Donor@Example.org", "name": "Ada Lovelace"},
        "metadata": {"campaign": CAMPAIGN, "kind": "one_off", "source": "banner"},
    }
    session.update(overrides)
    return session


def subscription_session(number=1, **overrides) -> dict:
    """A completed Checkout Session that starts a monthly gift."""
    return checkout_session(
        number,
        mode="subscription",
        payment_intent=None,
        subscription=f"sub_test_{number}",
        customer=f"cus_test_{number}",
        amount_total=1000,
        metadata={"campaign": CAMPAIGN, "kind": "monthly", "source": "banner"},
        **overrides,
    )


def invoice(number=1, month=1, **overrides) -> dict:
    """One month's invoice of a monthly gift (current API shape)."""
    found = {
        "id": f"in_test_{number}_{month}",
        "object": "invoice",
        "amount_due": 1000,
        "amount_paid": 1000,
        "currency": "usd",
        "customer": f"cus_test_{number}",
        "customer_email": "monthly@example.org",
        "customer_name": "Grace Hopper",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "subscription": f"sub_test_{number}",
                "metadata": {"campaign": CAMPAIGN},
            },
        },
        "payments": {
            "object": "list",
            "data": [{"payment": {"payment_intent": f"pi_inv_{number}_{month}"}}],
        },
    }
    found.update(overrides)
    return found


def charge(payment_intent: str, amount=2500, refunded_amount=2500, **overrides):
    """A charge after a refund (full unless ``refunded_amount`` is less)."""
    found = {
        "id": f"ch_{payment_intent}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded_amount,
        "refunded": refunded_amount >= amount,
        "currency": "usd",
        "payment_intent": payment_intent,
        "billing_details": {"email": "donor@example.org", "name": "Ada Lovelace"},
        "metadata": {},
    }
    found.update(overrides)
    return found


def subscription(number=1) -> dict:
    """A Stripe subscription as its deletion event carries it."""
    return {
        "id": f"sub_test_{number}",
        "object": "subscription",
        "status": "canceled",
        "customer": f"cus_test_{number}",
        "metadata": {"campaign": CAMPAIGN},
        "items": {
            "object": "list",
            "data": [{"price": {"unit_amount": 1000, "currency": "usd"}}],
        },
    }


def rows(app, model=Donation) -> list:
    """Every row of a model, oldest first, detached for reading."""
    with app.app_context():
        found = list(db.session.scalars(sa.select(model).order_by(model.id)))
        db.session.expunge_all()
        return found


def stored_nothing(app) -> bool:
    """Whether no event, donation or gift has been stored."""
    return not (rows(app) or rows(app, MonthlyGift) or rows(app, StripeEvent))
