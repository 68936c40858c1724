"""Signer emails, sent by the worker from the outbox (see notices.py)."""

import logging
import smtplib
import threading
import time

from celery import shared_task
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from kombu.exceptions import OperationalError as QueueUnavailable

from campaign.email import build_message, sending
from campaign.petition import notices
from campaign.petition.models import Notice, Signature
from campaign.petition.tokens import confirmation_token
from campaign.tasks import celery_app
from campaign.text import first_name
from campaign.urls import external_url

log = logging.getLogger(__name__)
_kick_lock = threading.Lock()
_last_kick = 0.0

SUBJECTS = {
    Notice.CONFIRM: lambda: _("Please confirm your signature"),
    Notice.ALREADY_SIGNED: lambda: _("You have already signed this petition"),
}
# Failures that mean "try again later", as opposed to a refused address.
TEMPORARY = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)


def kick_sender() -> None:
    """Ask a worker to send due emails now, unless this process asked just now."""
    global _last_kick
    interval = current_app.config["NOTICE_KICK_INTERVAL"]
    with _kick_lock:
        now = time.monotonic()
        if interval and now - _last_kick < interval:
            return
        _last_kick = now
    celery_app(current_app)  # built on first use; the task needs it as default
    try:
        send_due_notices.delay()
    except QueueUnavailable:
        # The email stays due: the beat schedule or the next kick sends it.
        log.warning("Queue unreachable; signer emails wait for the next run.")


@shared_task
def send_due_notices() -> int:
    """Send every due signer email, batch by batch; return how many went out."""
    sent = 0
    batch_size = current_app.config["NOTICE_BATCH_SIZE"]
    while True:
        claim, batch = notices.claim_due(batch_size)
        if not batch:
            return sent
        try:
            sent += _send_batch(claim, batch)
        except TEMPORARY:
            log.warning(
                "SMTP unavailable; %d emails wait for the next run.", len(batch)
            )
            notices.release(claim)
            return sent


def _send_batch(claim: str, batch: list[Signature]) -> int:
    """Send one claimed batch over one connection, clearing each row as it goes."""
    # Render first: each row's commit below would expire the loaded objects.
    messages = [(signature.id, _message(signature)) for signature in batch]
    with sending() as send:
        for signature_id, message in messages:
            try:
                send(message)
            except smtplib.SMTPRecipientsRefused:
                log.warning("Address refused for signature %s", signature_id)
            notices.mark_sent(signature_id, claim)
    return len(messages)


def _message(signature: Signature):
    """The email due to this signer, in the language they signed in."""
    petition = signature.petition
    with force_locale(signature.locale):
        return build_message(
            signature.email,
            SUBJECTS[signature.notice](),
            f"petition/{signature.notice.value}",
            name=first_name(signature.name),
            petition=petition,
            petition_url=external_url("petition.show", slug=petition.slug),
            confirm_url=external_url(
                "petition.confirm",
                slug=petition.slug,
                token=confirmation_token(signature),
            ),
        )
