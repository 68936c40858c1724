"""Mailing-list work done by Celery workers: subscriber emails, broadcasts."""

from celery import shared_task
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign.email import build_message, raw_sending
from campaign.mailing.broadcasts import (
    due_to_start,
    get_broadcast,
    in_progress,
    start,
    version_for,
)
from campaign.mailing.compose import BulkMessage
from campaign.mailing.links import confirm_url, preferences_url
from campaign.mailing.models import Subscriber, SubscriberNotice
from campaign.mailing.sender import SmtpUnavailable
from campaign.mailing.sender import send_broadcast as send_pending
from campaign.outbox import Kicker, Outbox, send_due
from campaign.privacy.self_service import subscriber_data_url
from campaign.tasks import delay

NOTICES = Outbox.of(Subscriber)
_kicker = Kicker("NOTICE_KICK_INTERVAL")

SUBJECTS = {
    SubscriberNotice.CONFIRM: lambda: _("Please confirm you want our emails"),
    SubscriberNotice.ALREADY_SUBSCRIBED: lambda: _("You are already on our list"),
}


def kick_sender() -> None:
    """Ask a worker to send due subscriber emails now (throttled per process)."""
    _kicker(send_due_subscriber_notices)


@shared_task
def send_due_subscriber_notices() -> int:
    """Send every due confirmation or "already subscribed" email."""
    return send_due(NOTICES, _message)


def _message(subscriber: Subscriber):
    """The email due to this subscriber, in the language they joined in."""
    with force_locale(subscriber.locale):
        return build_message(
            subscriber.email,
            SUBJECTS[subscriber.notice](),
            f"mailing/{subscriber.notice.value}",
            confirm_url=confirm_url(subscriber),
            preferences_url=preferences_url(subscriber.token),
            data_url=subscriber_data_url(subscriber.token),
        )


@shared_task(bind=True, max_retries=None)
def send_broadcast(self, broadcast_id: int) -> int:
    """Send a broadcast's pending copies; if SMTP is down, retry with backoff."""
    try:
        return send_pending(broadcast_id)
    except SmtpUnavailable as error:
        if self.request.is_eager:
            return 0  # no queue to retry on: the beat's next run resumes it
        config = current_app.config
        delay = min(
            config["BROADCAST_RETRY_MAX"],
            config["BROADCAST_RETRY_BASE"] * 2**self.request.retries,
        )
        raise self.retry(countdown=delay) from error


@shared_task
def resume_broadcasts() -> int:
    """Start scheduled broadcasts that are due; resume unfinished ones."""
    for broadcast_id in due_to_start():
        start(broadcast_id)
    running = in_progress()
    for broadcast_id in running:
        delay(send_broadcast, broadcast_id)
    return len(running)


@shared_task
def send_test_copy(broadcast_id: int, email: str, locale: str = "en") -> None:
    """Send an organiser a preview copy of a broadcast, marked as a test: the
    version readers of ``locale`` would get."""
    broadcast = get_broadcast(broadcast_id)
    if broadcast is None:
        return
    locale, subject, body = version_for(broadcast, locale)
    with force_locale(locale):
        subject = _("[Test] %(subject)s", subject=subject)
    message = BulkMessage(subject, body, locale)
    with raw_sending() as send:
        send(message.sender, email, message.for_recipient(email, "test-copy"))
