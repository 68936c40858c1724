"""Many supporters at once: exact counts, no duplicate rows, on PostgreSQL."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.petition.models import Signature
from tests.helpers import PG_URL, count, needs_postgres, sign

pytestmark = needs_postgres
THREADS = 16


@pytest.fixture
def database_url():
    """Concurrency is about the production database: PostgreSQL only."""
    return PG_URL


def run_all(jobs):
    """Run callables at once on many threads; return their results."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(lambda job: job(), jobs))


def test_concurrent_signing_and_confirming_count_exactly(app, inbox):
    people = [f"person{n}@example.org" for n in range(60)]
    signed = run_all([lambda e=e: sign(app.test_client(), email=e) for e in people])
    assert {r.status_code for r in signed} == {303}

    links = [re.sub(r"^https?://[^/]+", "", inbox.link(inbox.to(e)[0])) for e in people]
    # Every link clicked twice, all at once: each signature counts once.
    confirmed = run_all([lambda u=u: app.test_client().get(u) for u in links * 2])
    assert {r.status_code for r in confirmed} == {303}
    assert count(app.test_client()) == len(people)


def test_the_same_person_signing_many_times_at_once_is_one_row(app, inbox):
    variants = [f"Same.Person+{n}@gmail.com" for n in range(40)]
    signed = run_all([lambda e=e: sign(app.test_client(), email=e) for e in variants])
    assert {r.status_code for r in signed} == {303}
    with app.app_context():
        rows = db.session.scalars(sa.select(Signature)).all()
        assert [r.email_hash for r in rows] == [email_hash("sameperson@gmail.com")]
    assert len(inbox.messages) == 1  # one confirmation, no flood
