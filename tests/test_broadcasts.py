"""Broadcasts: organisers write, test and send; each subscriber gets one copy."""

import asyncio
import os
import re
import secrets
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from campaign.audit import AuditEntry
from campaign.email import raw_sending
from campaign.extensions import db
from campaign.mailing import broadcasts, ledger, services
from campaign.mailing.compose import BulkMessage
from campaign.mailing.models import (
    Broadcast,
    BroadcastState,
    Consent,
    Delivery,
    DeliveryRun,
    DeliveryState,
    Subscriber,
    SubscriberState,
)
from campaign.mailing.sender import SmtpUnavailable, send_broadcast
from campaign.mailing.tasks import resume_broadcasts
from campaign.mailing.tasks import send_broadcast as send_broadcast_task
from campaign.models import now_utc
from campaign.permissions import Role
from campaign.tasks import delay
from tests.helpers import (
    REDIS_URL,
    SLUG,
    free_port,
    refused_as_forged,
    sign,
    snapshot,
    start_worker,
    submit,
    wait_for,
)
from tests.test_organiser import add_organiser, log_in


def add_subscribers(app, emails) -> None:
    """Put addresses on the list as confirmed subscribers (no emails sent)."""
    with app.app_context():
        for email in emails:
            db.session.add(
                Subscriber(
                    email=email,
                    email_key=services.email_key(email),
                    token=secrets.token_urlsafe(32),
                    state=SubscriberState.SUBSCRIBED,
                    confirmed_at=now_utc(),
                    consents=[Consent(source="join", wording="Yes please")],
                )
            )
        db.session.commit()


def people(n: int, prefix: str = "reader") -> list[str]:
    """``n`` distinct addresses."""
    return [f"{prefix}{number}@example.org" for number in range(n)]


@pytest.fixture
def editor(app, client):
    """A client signed in as an editor (broadcasts need one)."""
    add_organiser(app, role=Role.EDITOR)
    assert log_in(client).status_code == 302
    return client


def write(client, subject="News from the campaign", audience="subscribers", **more):
    """Compose a broadcast through the form; return its id (``more``: the
    segment's fields)."""
    body = more.pop(
        "body_markdown",
        "Hello!\n\nWe **did it**. [Read more](https://example.org/news)",
    )
    response = submit(
        client,
        "/organiser/broadcasts/new",
        subject=subject,
        body_markdown=body,
        audience=audience,
        **more,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/broadcasts/(\d+)$", response.headers["Location"]).group(1))


def send_now(client, broadcast_id: int):
    """Press "Send now" on the broadcast's page, then "Yes" on the confirmation."""
    page = f"/organiser/broadcasts/{broadcast_id}"
    return submit(client, f"{page}/send", page=page, confirm="yes")


def deliveries(app, broadcast_id: int) -> dict[str, int]:
    """The ledger's counts per state."""
    with app.app_context():
        return ledger.progress(broadcast_id)


def recipients(inbox) -> list[str]:
    """Who the SMTP server delivered to, one entry per copy."""
    return sorted(m["X-Envelope-To"] for m in inbox.messages)


@pytest.mark.parametrize(
    "path",
    ["/organiser/broadcasts/", "/organiser/broadcasts/new", "/organiser/broadcasts/1"],
)
def test_broadcast_pages_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/organiser/login" in response.headers["Location"]


def test_progress_data_needs_sign_in(client):
    assert client.get("/organiser/broadcasts/1/progress.json").status_code == 401


@pytest.mark.parametrize("action", ["send", "test", "cancel", "schedule"])
def test_broadcast_actions_need_a_csrf_token(app, editor, inbox, action):
    add_subscribers(app, people(2))
    broadcast_id = write(editor)
    later = (now_utc() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    before = snapshot(app)
    # Everything the action needs but the token, so only CSRF can refuse it.
    response = editor.post(
        f"/organiser/broadcasts/{broadcast_id}/{action}", data={"send_at": later}
    )
    assert refused_as_forged(response)
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.get(Broadcast, broadcast_id).state is BroadcastState.DRAFT
    assert inbox.messages == []


def test_compose_preview_test_and_send(app, editor, inbox):
    add_subscribers(app, people(3))
    broadcast_id = write(editor)
    page = editor.get(f"/organiser/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert "<strong>did it</strong>" in page  # the Markdown, rendered
    assert "It would reach 3 people now." in page
    assert "<strong>Draft</strong>" in page  # the state's label, not its code

    submit(
        editor,
        f"/organiser/broadcasts/{broadcast_id}/test",
        page=f"/organiser/broadcasts/{broadcast_id}",
    )
    [test] = inbox.to("org@example.org")
    assert test["Subject"] == "[Test] News from the campaign"
    inbox.messages.clear()

    assert send_now(editor, broadcast_id).status_code == 302
    assert recipients(inbox) == people(3)
    status = editor.get(
        f"/organiser/broadcasts/{broadcast_id}/progress.json"
    ).get_json()
    assert status["state"] == "sent"
    assert (status["sent"], status["pending"], status["percent"]) == (3, 0, 100)
    assert status["recipients"] == 3
    # Sending again changes nothing.
    send_now(editor, broadcast_id)
    assert len(inbox.messages) == 3


def test_every_copy_is_list_mail_with_one_click_unsubscribe(app, editor, inbox):
    add_subscribers(app, ["grace@example.org"])
    send_now(editor, write(editor, subject="Ünïcode subject ✓"))
    [message] = inbox.messages
    assert message["Subject"] == "Ünïcode subject ✓"
    assert message["To"] == "grace@example.org"
    header = message["List-Unsubscribe"]
    https, mailto = re.findall(r"<([^>]+)>", header)
    assert https.startswith("http://campaign.test/unsubscribe/")
    assert mailto.startswith("mailto:unsubscribe@")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "We **did it**." in text and "<strong>did it</strong>" in html
    assert https in text and https in html
    # The mail client's one-click POST: no session, no CSRF token.
    path = https.replace("http://campaign.test", "")
    assert (
        app.test_client().post(path, data={"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )
    with app.app_context():
        assert (
            services.get_subscriber("grace@example.org").state
            is SubscriberState.UNSUBSCRIBED
        )


def test_the_audience_leaves_out_who_must_not_be_mailed(app, editor, inbox):
    add_subscribers(
        app, ["stays@example.org", "left@example.org", "bounced@example.org"]
    )
    with app.app_context():
        services.join_list(email="pending@example.org", source="join", wording="w")
        services.unsubscribe(services.get_subscriber("left@example.org"))
        services.record_bounce("bounced@example.org", "hard")
    inbox.messages.clear()
    send_now(editor, write(editor))
    assert recipients(inbox) == ["stays@example.org"]


def test_a_petition_audience_is_its_confirmed_opted_in_signers(app, editor, inbox):
    add_subscribers(app, ["reader@example.org"])
    signer = app.test_client()
    sign(signer, email="signer@example.org", join_list="y")
    sign(signer, email="quiet@example.org")  # did not tick the box
    sign(signer, email="unconfirmed@example.org", join_list="y")
    for email in ("signer@example.org", "quiet@example.org"):
        link = inbox.link(inbox.to(email)[-1])
        signer.get(link.replace("http://campaign.test", ""))
    inbox.messages.clear()
    send_now(editor, write(editor, audience=f"petition:{SLUG}"))
    assert recipients(inbox) == ["signer@example.org"]


def test_someone_who_leaves_mid_broadcast_is_skipped(app, editor, inbox):
    add_subscribers(app, people(3))
    broadcast_id = write(editor)
    with app.app_context():
        broadcasts.start(broadcast_id)
        services.unsubscribe(services.get_subscriber("reader1@example.org"))
        send_broadcast(broadcast_id)
    assert recipients(inbox) == ["reader0@example.org", "reader2@example.org"]
    assert deliveries(app, broadcast_id)["skipped"] == 1


class Refusing:
    """An SMTP handler that refuses some recipients, as a real server would."""

    def __init__(self, inbox, codes: dict[str, list[str]]):
        self.inbox, self.codes = inbox, codes

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        replies = self.codes.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        return await self.inbox.handle_DATA(server, session, envelope)


@pytest.fixture
def refusing(smtp_server, inbox):
    """Make the test SMTP server refuse chosen recipients for a while."""
    original = smtp_server.handler
    codes: dict[str, list[str]] = {}
    smtp_server.handler = Refusing(inbox, codes)
    yield codes
    smtp_server.handler = original


def test_permanent_refusals_are_recorded_and_temporary_ones_retried(
    app_factory, smtp_server, inbox, refusing
):
    app = app_factory(BROADCAST_RETRY_BASE=0)
    add_subscribers(app, people(3))
    refusing["reader0@example.org"] = ["550 5.1.1 No such user"]
    refusing["reader1@example.org"] = ["451 4.3.0 Try again later"]
    with app.app_context():
        broadcast = Broadcast(subject="S", body_markdown="B")
        db.session.add(broadcast)
        db.session.commit()
        broadcasts.start(broadcast.id)
        send_broadcast(broadcast.id)
        status = ledger.progress(broadcast.id)
        assert status["failed"] == 1 and status["sent"] == 2
        rows = db.session.scalars(sa.select(Delivery).order_by(Delivery.id)).all()
        assert rows[0].state is DeliveryState.FAILED
        assert rows[0].error.startswith("550") and rows[0].attempts == 1
        assert rows[1].state is DeliveryState.SENT and rows[1].attempts == 2
        assert db.session.get(Broadcast, broadcast.id).state is BroadcastState.SENT
    assert recipients(inbox) == ["reader1@example.org", "reader2@example.org"]


def new_broadcast(app, **fields) -> int:
    """A draft broadcast made directly (the pages are tested above)."""
    with app.app_context():
        broadcast = Broadcast(subject="Update", body_markdown="Hello", **fields)
        db.session.add(broadcast)
        db.session.commit()
        return broadcast.id


def started(app, count: int) -> int:
    """A broadcast to ``count`` subscribers, started (its ledger made)."""
    add_subscribers(app, people(count))
    broadcast_id = new_broadcast(app)
    with app.app_context():
        broadcasts.start(broadcast_id)
    return broadcast_id


def start_a_run(broadcast_id: int, handed: int, accepted: int | None = None):
    """Claim a batch as a run does and commit its first step (indexes in the batch).

    Returns the run's steps (to go on, or to find it may not) and the batch.
    """
    claim, batch = ledger.claim(broadcast_id, 10)
    steps = ledger.Steps(claim)
    last_accepted = 0 if accepted is None else batch[accepted].delivery_id
    assert steps.advance(handed=batch[handed].delivery_id, accepted=last_accepted)
    return steps, batch


def test_a_run_that_died_mid_send_is_finished_without_a_second_copy(app_factory, inbox):
    app = app_factory(BROADCAST_CLAIM_TIMEOUT=0)
    broadcast_id = started(app, 5)
    with app.app_context():
        # A run claims a batch, hands the first copy to SMTP ... and dies.
        steps, batch = start_a_run(broadcast_id, handed=0)
        steps.close()
        first = batch[0]
        message = BulkMessage("Update", "Hello")
        with raw_sending() as send:
            send(message.sender, first.email, message.for_recipient(first.email, "t"))
        # The next run retakes the dead claim.
        assert send_broadcast(broadcast_id) == 4
        assert db.session.get(Broadcast, broadcast_id).state is BroadcastState.SENT
    assert recipients(inbox) == people(5)  # everyone, once
    status = deliveries(app, broadcast_id)
    assert (status["sent"], status["unknown"]) == (4, 1)  # reader0: never resent


def test_a_slow_run_that_lost_its_claim_hands_nothing_more_over(app_factory, inbox):
    app = app_factory(BROADCAST_CLAIM_TIMEOUT=0)
    broadcast_id = started(app, 4)
    with app.app_context():
        # SMTP took reader0; reader1 was handed over, no answer recorded yet.
        steps, batch = start_a_run(broadcast_id, handed=1, accepted=0)
        # The run stalls; another finds its claim stale and settles it ...
        assert ledger.recover_stale(broadcast_id) == 1
        # ... so the slow run may not hand over anything more.
        assert not steps.advance(handed=batch[3].delivery_id, accepted=0)
        steps.close()
        status = ledger.progress(broadcast_id)
        assert (status["sent"], status["unknown"], status["pending"]) == (1, 1, 2)
        assert send_broadcast(broadcast_id) == 2  # the other run sends the rest
    assert recipients(inbox) == people(4)[2:]


def test_progress_counts_copies_accepted_before_their_batch_is_settled(app, editor):
    broadcast_id = started(app, 5)
    with app.app_context():
        steps, _ = start_a_run(broadcast_id, handed=3, accepted=1)
        steps.close()
    data = editor.get(f"/organiser/broadcasts/{broadcast_id}/progress.json").get_json()
    assert (data["recipients"], data["sent"], data["pending"]) == (5, 2, 3)
    assert (data["done"], data["percent"]) == (2, 40)


def test_cancelling_mid_send_stops_the_runs_still_sending(app, editor, inbox):
    add_subscribers(app, people(4))
    broadcast_id = write(editor)
    with app.app_context():
        broadcasts.start(broadcast_id)
        steps, batch = start_a_run(broadcast_id, handed=0)
    page = f"/organiser/broadcasts/{broadcast_id}"
    assert submit(editor, f"{page}/cancel", page=page).status_code == 302
    with app.app_context():
        assert not steps.advance(handed=batch[2].delivery_id, accepted=0)
        steps.close()
    status = deliveries(app, broadcast_id)
    # reader0 was in SMTP's hands: maybe delivered, never resent.
    assert (status["unknown"], status["skipped"], status["pending"]) == (1, 3, 0)
    assert broadcast_state(app, broadcast_id) is BroadcastState.CANCELLED


class SlowInbox:
    """An SMTP sink that takes a little while per message, to be killed mid-send."""

    def __init__(self):
        self.received: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await asyncio.sleep(0.01)
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def broker(tmp_path) -> str:
    """Redis when configured (as in production), else the SQLite broker."""
    if REDIS_URL:
        return REDIS_URL.rsplit("/", 1)[0] + "/6"
    return f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"


def test_killing_the_worker_mid_send_loses_and_doubles_nobody(
    app_factory, database_url, broker, tmp_path
):
    sink = SlowInbox()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    app = app_factory(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker)
    total = 300
    add_subscribers(app, people(total))
    broadcast_id = new_broadcast(app)
    settings = {
        "BROADCAST_CLAIM_TIMEOUT": "2",
        "BROADCAST_POLL_SECONDS": "1",
        "BROADCAST_BATCH_SIZE": "40",
        "BROADCAST_WINDOW": "5",
    }
    worker = start_worker(app, database_url, controller.port, tmp_path, **settings)
    try:
        with app.app_context():
            broadcasts.start(broadcast_id)
            delay(send_broadcast_task, broadcast_id)
        wait_for(lambda: len(sink.received) >= 60, timeout=60)
        os.killpg(worker.pid, signal.SIGKILL)  # mid-send, no goodbye
        worker.wait()
        assert len(sink.received) < total
        worker = start_worker(app, database_url, controller.port, tmp_path, **settings)
        wait_for(lambda: deliveries(app, broadcast_id)["pending"] == 0, timeout=120)
        wait_for(lambda: broadcast_state(app, broadcast_id) is BroadcastState.SENT)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        controller.stop()
    copies = Counter(sink.received)
    assert max(copies.values()) == 1  # nobody got a second copy
    status = deliveries(app, broadcast_id)
    assert status["sent"] + status["unknown"] == total
    assert status["unknown"] <= 5  # at most the window in flight at the kill
    with app.app_context():
        sent = db.session.scalars(
            sa.select(Subscriber.email)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .where(Delivery.state == DeliveryState.SENT)
        ).all()
    assert all(copies[email] == 1 for email in sent)  # nobody skipped


def broadcast_state(app, broadcast_id: int) -> BroadcastState:
    """The broadcast's state, read fresh."""
    with app.app_context():
        return db.session.get(Broadcast, broadcast_id).state


def test_an_smtp_outage_delays_but_loses_nothing(app_factory, inbox):
    port = free_port()
    app = app_factory(MAIL_PORT=port)  # nothing listens there yet
    add_subscribers(app, people(4))
    broadcast_id = new_broadcast(app)
    with app.app_context():
        broadcasts.start(broadcast_id)
        with pytest.raises(SmtpUnavailable):
            send_broadcast(broadcast_id)
        assert resume_broadcasts() == 1  # still sending, nothing sent
    assert deliveries(app, broadcast_id)["pending"] == 4
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()  # the server is back
    try:
        with app.app_context():
            resume_broadcasts()
    finally:
        controller.stop()
    assert recipients(inbox) == people(4)
    assert broadcast_state(app, broadcast_id) is BroadcastState.SENT


def test_a_scheduled_broadcast_goes_at_its_time(app, editor, inbox):
    add_subscribers(app, people(2))
    broadcast_id = write(editor)
    page = f"/organiser/broadcasts/{broadcast_id}"
    later = (now_utc() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    assert (
        submit(
            editor, f"{page}/schedule", page=page, send_at=later, confirm="yes"
        ).status_code
        == 302
    )
    with app.app_context():
        resume_broadcasts()
    assert inbox.messages == []
    assert broadcast_state(app, broadcast_id) is BroadcastState.SCHEDULED
    with app.app_context():
        db.session.get(Broadcast, broadcast_id).send_at = now_utc()
        db.session.commit()
        resume_broadcasts()
    assert recipients(inbox) == people(2)


def test_scheduling_in_the_past_is_refused(app, editor):
    broadcast_id = write(editor)
    page = f"/organiser/broadcasts/{broadcast_id}"
    earlier = (now_utc() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = submit(editor, f"{page}/schedule", page=page, send_at=earlier)
    assert response.status_code == 400
    assert "Choose a time in the future." in response.get_data(as_text=True)


def test_cancelling_a_scheduled_broadcast(app, editor, inbox):
    add_subscribers(app, people(2))
    broadcast_id = write(editor)
    page = f"/organiser/broadcasts/{broadcast_id}"
    later = (now_utc() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    submit(editor, f"{page}/schedule", page=page, send_at=later, confirm="yes")
    assert submit(editor, f"{page}/cancel", page=page).status_code == 302
    assert broadcast_state(app, broadcast_id) is BroadcastState.CANCELLED
    assert send_now(editor, broadcast_id).status_code == 302
    assert inbox.messages == []


def test_a_sent_broadcast_can_no_longer_be_changed(app, editor, inbox):
    add_subscribers(app, people(1))
    broadcast_id = write(editor)
    send_now(editor, broadcast_id)
    page = f"/organiser/broadcasts/{broadcast_id}"
    later = (now_utc() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    edit = {"subject": "Changed", "body_markdown": "New", "audience": "subscribers"}
    assert (
        submit(editor, f"{page}/edit", page=f"{page}/edit", **edit).status_code == 409
    )
    assert (
        submit(
            editor, f"{page}/schedule", page=page, send_at=later, confirm="yes"
        ).status_code
        == 409
    )
    assert submit(editor, f"{page}/cancel", page=page).status_code == 409
    assert broadcast_state(app, broadcast_id) is BroadcastState.SENT


def test_the_cli_sends_with_a_progress_bar(app, runner, inbox):
    add_subscribers(app, people(3))
    broadcast_id = new_broadcast(app)
    result = runner.invoke(args=["campaign", "send-broadcast", str(broadcast_id)])
    assert result.exit_code == 0, result.output
    assert "Sending" in result.output
    assert "3 sent, 0 failed" in result.output
    assert recipients(inbox) == people(3)
    result = runner.invoke(args=["campaign", "send-broadcast", "999"])
    assert result.exit_code != 0 and "No broadcast 999" in result.output


def test_the_cli_records_bounces(app, runner):
    add_subscribers(app, ["gone@example.org"])
    result = runner.invoke(args=["campaign", "record-bounce", "gone@example.org"])
    assert "suppressed (hard_bounce)" in result.output
    with app.app_context():
        assert (
            services.get_subscriber("gone@example.org").state
            is SubscriberState.UNSUBSCRIBED
        )


def test_organisers_record_bounces_from_the_list_page(app, editor):
    add_subscribers(app, ["full@example.org"])
    page = "/organiser/broadcasts/"
    response = submit(
        editor,
        "/organiser/broadcasts/bounces",
        page=page,
        email="full@example.org",
        kind="soft",
    )
    assert response.status_code == 302
    with app.app_context():
        assert services.get_subscriber("full@example.org").soft_bounces == 1
    bad = submit(
        editor, "/organiser/broadcasts/bounces", page=page, email="nope", kind="soft"
    )
    assert bad.status_code == 400


def test_sending_is_throttled_to_the_configured_rate(app_factory, inbox, monkeypatch):
    app = app_factory(BROADCAST_RATE=2)
    add_subscribers(app, people(3))
    waits = []
    real_sleep = time.sleep
    monkeypatch.setattr(
        "campaign.mailing.sender.time.sleep",
        lambda seconds: (waits.append(seconds), real_sleep(seconds)),
    )
    broadcast_id = new_broadcast(app)
    with app.app_context():
        broadcasts.start(broadcast_id)
        assert send_broadcast(broadcast_id) == 3
    assert waits and all(w == 0.5 for w in waits)  # held back at 2 a second
    assert recipients(inbox) == people(3)


class DroppingInbox:
    """Accepts a few messages, then answers 421 and drops the connection."""

    def __init__(self, inbox, accept: int):
        self.inbox, self.accept = inbox, accept

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.accept == 0:
            self.accept = -1
            return "421 4.3.2 Service shutting down"
        self.accept -= 1
        return await self.inbox.handle_DATA(server, session, envelope)


@pytest.mark.parametrize("window", [1, 2, 3, 10])
def test_any_window_and_batch_size_sends_everyone_once(app_factory, inbox, window):
    app = app_factory(BROADCAST_WINDOW=window, BROADCAST_BATCH_SIZE=4)
    broadcast_id = started(app, 9)
    with app.app_context():
        assert send_broadcast(broadcast_id) == 9
        assert db.session.scalars(sa.select(DeliveryRun)).all() == []  # all settled
    assert recipients(inbox) == people(9)
    assert deliveries(app, broadcast_id)["sent"] == 9


def test_runs_sending_one_broadcast_at_once_give_everyone_one_copy(app_factory, inbox):
    # As several workers would: each run claims its own batches.
    app = app_factory(BROADCAST_BATCH_SIZE=7, BROADCAST_WINDOW=4)
    broadcast_id = started(app, 120)

    def run() -> int:
        with app.app_context():
            return send_broadcast(broadcast_id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        sent = list(pool.map(lambda _: run(), range(4)))
    assert sum(sent) == 120
    copies = Counter(recipients(inbox))
    assert sorted(copies) == sorted(people(120)) and set(copies.values()) == {1}
    assert deliveries(app, broadcast_id)["sent"] == 120
    assert broadcast_state(app, broadcast_id) is BroadcastState.SENT


def test_without_smtp_each_copy_is_a_file_and_its_links_are_logged(
    app_factory, tmp_path, caplog
):
    folder = tmp_path / "mail"
    app = app_factory(MAIL_BACKEND="file", MAIL_DIR=str(folder))
    broadcast_id = started(app, 2)
    with app.app_context():
        assert send_broadcast(broadcast_id) == 2
    assert len(list(folder.glob("*.eml"))) == 2
    logged = [r.getMessage() for r in caplog.records if "written to" in r.getMessage()]
    assert len(logged) == 2  # one line per copy
    for line in logged:
        links = line.split("links: ")[1].split()
        assert len(links) == len(set(links)) == 3  # unsubscribe, preferences, your data
        assert all(re.fullmatch(r"https?://[\w./:-]+", link) for link in links)


def test_other_work_commits_durably_again_after_a_broadcast(app, inbox):
    # The ledger's steps skip waiting for the disk flush on PostgreSQL; the
    # connections they used must not carry that on to signatures or gifts.
    broadcast_id = started(app, 3)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL setting")
        send_broadcast(broadcast_id)
        pooled = [db.engine.connect() for _ in range(db.engine.pool.size())]
        try:
            settings = {c.scalar(sa.text("SHOW synchronous_commit")) for c in pooled}
        finally:
            for connection in pooled:
                connection.close()
    assert settings == {"on"}


def test_copies_accepted_before_a_dropped_connection_are_not_resent(
    app_factory, smtp_server, inbox
):
    app = app_factory(BROADCAST_WINDOW=10, BROADCAST_RETRY_BASE=0)
    add_subscribers(app, people(6))
    broadcast_id = new_broadcast(app)
    original = smtp_server.handler
    smtp_server.handler = DroppingInbox(inbox, accept=3)
    try:
        with app.app_context():
            broadcasts.start(broadcast_id)
            with pytest.raises(SmtpUnavailable):
                send_broadcast(broadcast_id)
            assert ledger.progress(broadcast_id)["sent"] == 3  # recorded, kept
            smtp_server.handler = original
            send_broadcast(broadcast_id)
    finally:
        smtp_server.handler = original
    assert recipients(inbox) == people(6)  # everyone once, mid-window or not
    assert broadcast_state(app, broadcast_id) is BroadcastState.SENT


# Confirmation before sending, deleting drafts, segments, outcomes.


def test_send_now_asks_first_showing_the_exact_reach(app, editor, inbox):
    add_subscribers(app, people(3))
    broadcast_id = write(editor)
    page = f"/organiser/broadcasts/{broadcast_id}"
    before = snapshot(app)
    asked = submit(editor, f"{page}/send", page=page)  # no "yes" in the form
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "Send this broadcast now?" in text
    assert "It reaches 3 addresses now." in text
    assert "Yes, send it to 3 addresses" in text
    assert 'name="confirm" value="yes"' in text
    assert inbox.messages == [] and snapshot(app) == before
    assert broadcast_state(app, broadcast_id) is BroadcastState.DRAFT
    assert send_now(editor, broadcast_id).status_code == 302
    assert recipients(inbox) == people(3)


def test_a_schedule_asks_first_and_keeps_the_time(app, editor):
    add_subscribers(app, people(2))
    broadcast_id = write(editor)
    page = f"/organiser/broadcasts/{broadcast_id}"
    later = (now_utc() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    asked = submit(editor, f"{page}/schedule", page=page, send_at=later)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Schedule this broadcast?" in text
    assert "It reaches 2 addresses now." in text
    assert f'name="send_at" value="{later}"' in text
    assert broadcast_state(app, broadcast_id) is BroadcastState.DRAFT
    confirmed = submit(
        editor, f"{page}/schedule", page=page, send_at=later, confirm="yes"
    )
    assert confirmed.status_code == 302
    assert broadcast_state(app, broadcast_id) is BroadcastState.SCHEDULED


def test_drafts_can_be_deleted_after_a_yes_and_only_drafts(app, editor, inbox):
    add_subscribers(app, people(1))
    draft, sent = write(editor, subject="Draft"), write(editor, subject="Sent")
    send_now(editor, sent)
    page = f"/organiser/broadcasts/{draft}"
    assert "Delete the draft" in editor.get(page).get_data(as_text=True)
    asked = submit(editor, f"{page}/delete", page=page)
    assert asked.status_code == 200 and "Delete this draft?" in asked.get_data(True)
    assert editor.get(page).status_code == 200  # still there
    assert submit(editor, f"{page}/delete", page=page, confirm="yes").status_code == 302
    assert editor.get(page).status_code == 404
    sent_page = f"/organiser/broadcasts/{sent}"
    assert "Delete the draft" not in editor.get(sent_page).get_data(as_text=True)
    refused = submit(editor, f"{sent_page}/delete", page=sent_page, confirm="yes")
    assert refused.status_code == 409
    assert broadcast_state(app, sent) is BroadcastState.SENT
    with app.app_context():
        [entry] = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "broadcast.delete")
        ).all()
        assert entry.detail == f"broadcast {draft}"


@pytest.fixture
def segmented(app):
    """Subscribers in several languages, countries and sources."""
    with app.app_context():
        rows = [
            ("en.gb@example.org", "en", "GB", "join"),
            ("fa.af@example.org", "fa_AF", "AF", "join"),
            ("fa.af.story@example.org", "fa_AF", "AF", "story"),
            ("ps.af@example.org", "ps", "AF", "import:rally"),
            ("fa.de@example.org", "fa_AF", "DE", "story"),
        ]
        for email, locale, country, source in rows:
            db.session.add(
                Subscriber(
                    email=email,
                    email_key=services.email_key(email),
                    token=secrets.token_urlsafe(32),
                    state=SubscriberState.SUBSCRIBED,
                    confirmed_at=now_utc(),
                    locale=locale,
                    country=country,
                    # Two consents: a source matches once, never twice.
                    consents=[
                        Consent(source=source, wording="Yes"),
                        Consent(source="preferences", wording="Again"),
                    ],
                )
            )
        db.session.commit()


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ({"segment_locale": "fa_AF"}, ["fa.af", "fa.af.story", "fa.de"]),
        ({"segment_country": "af"}, ["fa.af", "fa.af.story", "ps.af"]),
        ({"segment_source": "story"}, ["fa.af.story", "fa.de"]),
        (
            {"segment_source": "preferences"},
            ["en.gb", "fa.af", "fa.af.story", "fa.de", "ps.af"],
        ),
        (
            {
                "segment_locale": "fa_AF",
                "segment_country": "AF",
                "segment_source": "join",
            },
            ["fa.af"],
        ),
        ({"segment_locale": "ps", "segment_country": "GB"}, []),
    ],
)
def test_a_segment_reaches_exactly_its_people_once(
    app, editor, inbox, segmented, segment, expected
):
    broadcast_id = write(editor, **segment)
    page = editor.get(f"/organiser/broadcasts/{broadcast_id}").get_data(as_text=True)
    reach = len(expected)
    assert f"It would reach {reach} " in page
    send_now(editor, broadcast_id)
    wanted = sorted(f"{name}@example.org" for name in expected)
    assert recipients(inbox) == wanted
    assert sum(deliveries(app, broadcast_id).values()) == reach


def test_a_segment_narrows_a_petitions_signers(app, editor, inbox, segmented):
    signer = app.test_client()
    for email in ("fa.af@example.org", "en.gb@example.org"):
        sign(signer, email=email, join_list="y")
        link = inbox.link(inbox.to(email)[-1])
        signer.get(link.replace("http://campaign.test", ""))
    inbox.messages.clear()
    broadcast_id = write(editor, audience=f"petition:{SLUG}", segment_country="AF")
    send_now(editor, broadcast_id)
    assert recipients(inbox) == ["fa.af@example.org"]


def test_the_segment_is_shown_kept_and_checked(app, editor, segmented):
    broadcast_id = write(
        editor, segment_locale="ps", segment_country="AF", segment_source="import:rally"
    )
    page = f"/organiser/broadcasts/{broadcast_id}"
    shown = editor.get(page).get_data(as_text=True)
    assert "language: Pashto" in shown and "country: AF" in shown
    assert "joined through: import:rally" in shown
    form = editor.get(f"{page}/edit").get_data(as_text=True)
    assert '<option selected value="ps">' in form
    assert 'value="AF"' in form
    refused = submit(
        editor,
        "/organiser/broadcasts/new",
        subject="S",
        body_markdown="B",
        audience="subscribers",
        segment_locale="xx",
        segment_country="ZZ",
        segment_source="nowhere",
    )
    assert refused.status_code == 400
    assert refused.get_data(as_text=True).count("Choose one of the options.") >= 2
    assert "Use a two-letter country code." in refused.get_data(as_text=True)


def test_a_sent_broadcast_shows_each_outcome_and_the_errors(
    app_factory, smtp_server, inbox, refusing
):
    app = app_factory()
    add_subscribers(app, people(3))
    refusing["reader0@example.org"] = ["550 5.1.1 No such user here"]
    add_organiser(app, role=Role.STAFF)
    staff = app.test_client()
    log_in(staff)
    with app.app_context():
        broadcast = Broadcast(subject="S", body_markdown="B")
        db.session.add(broadcast)
        db.session.commit()
        broadcast_id = broadcast.id
        broadcasts.start(broadcast_id)
        services.unsubscribe(services.get_subscriber("reader2@example.org"))
        send_broadcast(broadcast_id)
    page = staff.get(f"/organiser/broadcasts/{broadcast_id}").get_data(as_text=True)
    outcomes = dict(
        re.findall(
            r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>",
            page.split("What happened to each copy")[1],
        )
    )
    assert outcomes == {
        "Waiting to send": "0",
        "Sent": "1",
        "Refused by the mail server": "1",
        "Not sent: left the list first": "1",
        "Unknown": "0",
    }
    assert "<bdi>reader0@example.org</bdi>" in page
    assert "550 5.1.1 No such user here" in page
