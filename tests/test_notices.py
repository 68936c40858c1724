"""The signer-email outbox: every due email goes out exactly once."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from campaign.extensions import db
from campaign.models import now_utc
from campaign.petition import notices
from campaign.petition.models import Signature
from campaign.petition.tasks import send_due_notices
from tests.helpers import free_port, needs_postgres, sign


def due_count(app) -> int:
    """How many signer emails are still due."""
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).where(Signature.notice.is_not(None))
        )


def sign_quietly(app, how_many: int) -> None:
    """Sign as many people, with no sender run asked for (as under load)."""
    app.config["NOTICE_KICK_INTERVAL"] = 3600
    client = app.test_client()
    for number in range(how_many):
        sign(client, email=f"person{number}@example.org")


def test_one_run_sends_every_due_email_in_batches(app_factory, inbox):
    app = app_factory(NOTICE_BATCH_SIZE=7)
    sign_quietly(app, 20)
    with app.app_context():
        assert send_due_notices() == 20
    recipients = sorted(m["To"] for m in inbox.messages)
    assert recipients == sorted(f"person{n}@example.org" for n in range(20))
    assert due_count(app) == 0


def test_an_smtp_outage_delays_but_loses_nothing(app_factory, inbox):
    app = app_factory()
    sign_quietly(app, 5)
    state = app.extensions["mail"]
    real_port, state.port = state.port, free_port()  # the SMTP server is down
    with app.app_context():
        assert send_due_notices() == 0
    assert inbox.messages == [] and due_count(app) == 5
    state.port = real_port  # and back
    with app.app_context():
        assert send_due_notices() == 5
        assert send_due_notices() == 0
    assert len(inbox.messages) == 5


def test_a_crashed_runs_claim_is_retaken_after_the_timeout(app_factory, inbox):
    app = app_factory()
    sign_quietly(app, 3)
    with app.app_context():
        claim, batch = notices.claim_due(10)  # then the worker dies
        assert len(batch) == 3
        assert send_due_notices() == 0  # another run leaves them alone
        db.session.execute(
            sa.update(Signature).values(
                notice_claimed_at=now_utc() - timedelta(hours=1)
            )
        )
        db.session.commit()
        assert send_due_notices() == 3
    assert len(inbox.messages) == 3


def test_a_repeat_while_an_email_is_being_sent_is_not_lost(app_factory, inbox):
    app = app_factory(NOTICE_INTERVAL=0)
    sign_quietly(app, 1)
    with app.app_context():
        claim, [signature] = notices.claim_due(10)
        sign(app.test_client(), email="person0@example.org")  # due again
        notices.mark_sent(signature.id, claim)  # the first run finishes
        assert send_due_notices() == 1  # the repeat's email still goes out


@needs_postgres
def test_concurrent_runs_never_send_the_same_email_twice(app_factory, inbox):
    app = app_factory(NOTICE_BATCH_SIZE=5)
    sign_quietly(app, 60)

    def run():
        with app.app_context():
            return send_due_notices()

    with ThreadPoolExecutor(max_workers=6) as pool:
        sent = sum(pool.map(lambda _: run(), range(6)))
    recipients = [m["To"] for m in inbox.messages]
    assert sent == 60
    assert sorted(recipients) == sorted(f"person{n}@example.org" for n in range(60))
