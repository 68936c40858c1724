"""Email goes through a real Celery worker, on the SQLite broker and on Redis."""

import logging
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from campaign.extensions import db
from campaign.petition.models import Notice, Signature
from campaign.petition.tasks import send_due_notices
from tests.helpers import (
    REDIS_URL,
    count,
    free_port,
    needs_redis,
    sign,
    start_worker,
    wait_for,
)


@pytest.fixture(
    params=["sqlite-broker", pytest.param("redis-broker", marks=needs_redis)]
)
def broker_url(request, tmp_path) -> str:
    """The embedded default's SQLite broker, and Redis as in production."""
    if request.param == "sqlite-broker":
        return f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    # REDIS_URL's own database: runs sharing one Redis server (one database
    # each) must not take each other's tasks.
    return REDIS_URL


@pytest.fixture
def worker_app(app_factory, broker_url, database_url, smtp_server, tmp_path):
    """An app whose tasks go to the broker, and a real worker process beside it."""
    app = app_factory(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker_url)
    worker = start_worker(app, database_url, smtp_server.port, tmp_path)
    yield app
    worker.terminate()
    worker.wait(timeout=20)


def test_the_worker_sends_the_confirmation_after_the_request(worker_app, inbox):
    client = worker_app.test_client()
    assert sign(client, email="queued@example.org").status_code == 303
    [message] = wait_for(lambda: inbox.to("queued@example.org"), timeout=60)
    link = inbox.link(message).replace("http://campaign.test", "")
    assert client.get(link).status_code == 303
    assert count(client) == 1


def test_the_embedded_default_writes_mail_to_files(app_factory, tmp_path, caplog):
    app = app_factory(MAIL_BACKEND="file", MAIL_DIR=str(tmp_path / "mail"))
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="campaign.email"):
        sign(client, email="filed@example.org")
    [path] = Path(tmp_path / "mail").glob("*.eml")
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "filed@example.org"
    text = message.get_body(("plain",)).get_content()
    link = next(w for w in text.split() if "/confirm/" in w)
    assert link in caplog.text  # the confirmation link is on the console too
    assert client.get(link.replace("http://campaign.test", "")).status_code == 303


def test_signing_while_the_queue_is_down_loses_nothing(app_factory, inbox):
    app = app_factory(
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
    )
    client = app.test_client()
    response = sign(client, email="later@example.org")
    assert response.status_code == 303  # the supporter sees the usual page
    assert inbox.messages == []
    # The queue is back: the next scheduled run sends the email, once.
    with app.app_context():
        assert send_due_notices() == 1
        assert send_due_notices() == 0
    assert len(inbox.to("later@example.org")) == 1


def email_due(app) -> bool:
    """Whether any signature still has an email due."""
    with app.app_context():
        return bool(
            db.session.scalar(
                sa.select(sa.func.count()).where(Signature.notice.is_not(None))
            )
        )


def test_the_beat_schedule_sends_what_no_kick_asked_for(worker_app, inbox):
    client = worker_app.test_client()
    sign(client, email="first@example.org")
    wait_for(lambda: inbox.to("first@example.org"), timeout=60)
    wait_for(lambda: not email_due(worker_app))  # the worker recorded it as sent
    with worker_app.app_context():  # due without a kick, as after a lost one
        db.session.execute(sa.update(Signature).values(notice=Notice.CONFIRM))
        db.session.commit()
    wait_for(lambda: len(inbox.to("first@example.org")) == 2, timeout=60)
