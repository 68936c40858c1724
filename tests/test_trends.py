"""The petition dashboard's trending client addresses (and email domains),
over the last hour and day, each linking to its moderation filter."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.models import now_utc
from campaign.permissions import Role
from campaign.petition.models import Signature
from campaign.privacy.client_keys import client_key
from tests.helpers import SLUG, sign
from tests.test_care import signed_in

DASHBOARD = f"/organiser/petitions/{SLUG}"
ROW = re.compile(
    r'<a href="[^"]*/moderate\?(ip_key|email_domain)=([^"]+)">'
    r".*?</a></td><td>(\d+)</td>"
)


@pytest.fixture
def proxied(app_factory):
    """An app behind one proxy, so each test request names its own address."""
    return app_factory(PROXY_FIX_X_FOR=1)


def sign_from(app, address: str, *emails: str) -> None:
    """Sign once per email from one client address."""
    client = app.test_client()
    for email in emails:
        response = sign(client, email=email, headers={"X-Forwarded-For": address})
        assert response.status_code == 303


def age(app, hours: int, *emails: str) -> None:
    """Make these signatures as old as that."""
    with app.app_context():
        db.session.execute(
            sa.update(Signature)
            .where(Signature.email_hash.in_([email_hash(e) for e in emails]))
            .values(created_at=now_utc() - timedelta(hours=hours))
        )
        db.session.commit()


def key_of(app, address: str) -> str:
    """The client key an address has now."""
    with app.app_context():
        return client_key(address)


def tables(page: str) -> list[list[tuple[str, str, int]]]:
    """Each trends table's rows: (criterion, value, count)."""
    return [
        [(kind, value, int(n)) for kind, value, n in ROW.findall(table)]
        for table in re.findall(r'<table class="trends">.*?</table>', page, re.S)
    ]


def test_the_dashboard_shows_trending_addresses_per_hour_and_day(proxied):
    sign_from(proxied, "203.0.113.1", "a1@example.org", "a2@example.org")
    sign_from(proxied, "203.0.113.1", "a3@example.org")
    sign_from(proxied, "203.0.113.2", "b1@example.org")
    sign_from(proxied, "203.0.113.3", "c1@example.org", "c2@example.org")
    sign_from(proxied, "203.0.113.3", "c3@example.org", "c4@example.org")
    age(proxied, 3, "c1@example.org", "c2@example.org", "c3@example.org")
    sign_from(proxied, "203.0.113.4", "old@example.org")
    age(proxied, 30, "old@example.org")  # older than a day: in neither list
    a, b, c = (key_of(proxied, f"203.0.113.{n}") for n in (1, 2, 3))
    staff = signed_in(proxied, "staff@example.org", Role.STAFF)
    page = staff.get(DASHBOARD).get_data(as_text=True)
    hour, day = tables(page)[:2]
    assert hour == sorted(
        [("ip_key", a, 3), ("ip_key", b, 1), ("ip_key", c, 1)],
        key=lambda row: (-row[2], row[1]),
    )
    assert day == sorted(
        [("ip_key", a, 3), ("ip_key", b, 1), ("ip_key", c, 4)],
        key=lambda row: (-row[2], row[1]),
    )
    assert "203.0.113" not in page


def test_a_trending_address_opens_its_moderation_filter(proxied):
    sign_from(proxied, "203.0.113.1", "a1@example.org", "a2@example.org")
    staff = signed_in(proxied, "staff@example.org", Role.STAFF)
    key = key_of(proxied, "203.0.113.1")
    page = staff.get(f"{DASHBOARD}/moderate?ip_key={key}").get_data(as_text=True)
    assert re.search(rf'<input[^>]*name="ip_key"[^>]*value="{key}"', page)


def test_the_dashboard_shows_trending_email_domains(proxied):
    sign_from(proxied, "203.0.113.1", "a@many.example", "b@Many.example")
    sign_from(proxied, "203.0.113.2", "c@many.example", "d@few.example")
    sign_from(proxied, "203.0.113.3", "e@few.example", "f@once.example")
    age(proxied, 5, "e@few.example", "f@once.example")
    staff = signed_in(proxied, "staff@example.org", Role.STAFF)
    page = staff.get(DASHBOARD).get_data(as_text=True)
    hour, day = tables(page)[2:]
    assert hour == [
        ("email_domain", "many.example", 3),
        ("email_domain", "few.example", 1),
    ]
    assert day == [
        ("email_domain", "many.example", 3),
        ("email_domain", "few.example", 2),
        ("email_domain", "once.example", 1),
    ]
    # Each opens the moderation filter by domain, which finds them.
    shown = staff.get(f"{DASHBOARD}/moderate?email_domain=many.example")
    assert 'value="many.example"' in shown.get_data(as_text=True)
