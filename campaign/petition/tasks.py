"""Petition work for the worker: signer emails from the outbox (see
notices.py) and the petition PDFs (see delivery.py)."""

from celery import shared_task
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign.email import build_message
from campaign.outbox import Kicker, send_due
from campaign.petition import delivery, notices
from campaign.petition.models import Notice, Signature
from campaign.petition.services import PublicPetition, petition_translation
from campaign.petition.tokens import confirmation_token
from campaign.privacy import self_service
from campaign.text import first_name
from campaign.urls import external_url

SUBJECTS = {
    Notice.CONFIRM: lambda: _("Please confirm your signature"),
    Notice.ALREADY_SIGNED: lambda: _("You have already signed this petition"),
}
_kicker = Kicker("NOTICE_KICK_INTERVAL")


def kick_sender() -> None:
    """Ask a worker to send due emails now, unless this process asked just now."""
    _kicker(send_due_notices)


@shared_task
def send_due_notices() -> int:
    """Send every due signer email, batch by batch; return how many went out."""
    return send_due(notices.OUTBOX, _message)


def _message(signature: Signature):
    """The email due to this signer, in the language they signed in (the
    petition named in its words there, if it has them)."""
    petition = signature.petition
    translation = petition_translation(petition.id, signature.locale)
    with force_locale(signature.locale):
        return build_message(
            signature.email,
            SUBJECTS[signature.notice](),
            f"petition/{signature.notice.value}",
            name=first_name(signature.name),
            petition=PublicPetition.of(petition, translation),
            petition_url=external_url("petition.show", slug=petition.slug),
            withdraw_url=self_service.withdraw_url(signature),
            data_url=self_service.signer_data_url(signature),
            confirm_url=external_url(
                "petition.confirm",
                slug=petition.slug,
                token=confirmation_token(signature),
            ),
        )


@shared_task
def make_petition_pdf(job_id: int) -> bool:
    """Make one queued petition PDF (campaign/petition/delivery.py)."""
    return delivery.run_job(job_id)


@shared_task
def sweep_petition_pdfs() -> int:
    """Delete stored PDFs past keeping, and make any the queue never got."""
    delivery.forget_old_pdfs()
    queued = delivery.queued_ids()
    for job_id in queued:
        delivery.run_job(job_id)
    return len(queued)
