"""Donations in the organiser area: totals, chart, list, CSV export, data care."""

import csv
import io
import json

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.donate.models import Donation, MonthlyGift
from campaign.extensions import db
from campaign.permissions import Role
from tests.donate_helpers import (
    charge,
    checkout_session,
    deliver,
    event,
    invoice,
    rows,
    stripe_config,
    subscription_session,
)
from tests.helpers import submit
from tests.stripe_standin import running
from tests.test_organiser import add_organiser, log_in

PAGE = "/organiser/donations"
CSV = "/organiser/donations.csv"


@pytest.fixture
def app(app_factory):
    """The site with Stripe keys (no API call is made in these tests)."""
    with running() as standin:
        yield app_factory(**stripe_config(standin))


@pytest.fixture
def gifts(app):
    """Two one-off gifts (one refunded, one from a formula-like name) and a month."""
    stripe = app.test_client()
    hostile = {"email": "eve@example.org", "name": "=HYPERLINK(evil)"}
    grace = {"email": "monthly@example.org", "name": "Grace Hopper"}
    for delivered in (
        event("checkout.session.completed", checkout_session(1)),
        event(
            "checkout.session.completed",
            checkout_session(2, amount_total=10050, customer_details=hostile),
        ),
        event("charge.refunded", charge("pi_test_1")),
        event(
            "checkout.session.completed",
            subscription_session(3, customer_details=grace),
        ),
        event("invoice.paid", invoice(3)),
    ):
        assert deliver(stripe, delivered).status_code == 200
    return app


@pytest.fixture
def staff(app, client):
    """A client signed in as a staff organiser."""
    add_organiser(app)
    assert log_in(client).status_code == 302
    return client


def read_csv(response) -> list[dict]:
    """The rows of a CSV download, by column name."""
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_anonymous_visitors_get_sign_in_or_401(client):
    page = client.get(PAGE)
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/organiser/login?next=")
    assert client.get(CSV).status_code == 401


def test_staff_see_totals_chart_and_list(gifts, staff):
    response = staff.get(PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    # One-off: $25 + $100.50; monthly: $10; refunded: $25.
    assert "<dd>$125.50</dd>" in html
    assert "<dd>$10</dd>" in html
    assert "<dd>$25</dd>" in html
    assert "<dd>$110.50</dd>" in html  # net
    assert "Received per day in USD, last 30 days" in html
    assert "Busiest: 136." in html  # today's $135.50, in whole dollars
    assert "eve@example.org" in html and "monthly@example.org" in html
    assert 'href="/organiser/donations"' in html  # in the organiser menu


def test_the_list_filters_by_state_and_kind(gifts, staff):
    html = staff.get(PAGE + "?state=refunded").get_data(as_text=True)
    assert "donor@example.org" in html and "eve@example.org" not in html
    html = staff.get(PAGE + "?kind=monthly").get_data(as_text=True)
    assert "monthly@example.org" in html and "eve@example.org" not in html
    assert staff.get(PAGE + "?state=stolen").status_code == 400


def test_the_csv_is_streamed_escaped_and_audited(gifts, staff):
    response = staff.get(CSV)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="donations.csv"'
    )
    found = read_csv(response)
    by_email = {row["email"]: row for row in found}
    assert len(found) == 3
    assert by_email["eve@example.org"]["name"] == "'=HYPERLINK(evil)"
    assert by_email["eve@example.org"]["amount"] == "100.50"
    refunded = by_email["donor@example.org"]
    assert (refunded["state"], refunded["refunded"]) == ("refunded", "25.00")
    assert by_email["monthly@example.org"]["kind"] == "monthly"
    with gifts.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "export-donations")
        )
        assert (entry.rows, entry.detail) == (3, "donations via web: all")


def test_a_filtered_csv_takes_only_matching_rows(gifts, staff):
    found = read_csv(staff.get(CSV + "?kind=one_off&state=paid"))
    assert [row["email"] for row in found] == ["eve@example.org"]
    assert staff.get(CSV + "?since=yesterday").status_code == 400


def test_a_donors_data_request_and_erasure_cover_donations(gifts, client):
    add_organiser(gifts, "admin@example.org", Role.ADMIN)
    log_in(client, "admin@example.org")
    exported = submit(
        client,
        "/organiser/supporters/export",
        "/organiser/supporters",
        email="Monthly@Example.org",
    )
    data = json.loads(exported.get_data(as_text=True))
    [month] = data["donations"]
    assert (month["kind"], month["amount_minor_units"]) == ("monthly", 1000)
    assert data["monthly_gifts"][0]["stripe_subscription"] == "sub_test_3"

    submit(
        client,
        "/organiser/supporters/erase",
        "/organiser/supporters",
        email="monthly@example.org",
    )
    [kept] = [d for d in rows(gifts) if d.invoice_id == "in_test_3_1"]
    assert (kept.email, kept.name, kept.amount) == (None, None, 1000)
    [gift] = rows(gifts, MonthlyGift)
    assert (gift.email, gift.name, gift.amount) == (None, None, 1000)
    with gifts.app_context():
        left = db.session.scalar(
            sa.select(sa.func.count()).where(Donation.email == "monthly@example.org")
        )
        assert left == 0
