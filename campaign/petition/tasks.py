"""Petition emails, sent by the worker after the signing commit."""

import smtplib

from celery import shared_task
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign.email import send_email
from campaign.extensions import db
from campaign.petition.models import Signature
from campaign.petition.tokens import confirmation_token
from campaign.text import first_name
from campaign.urls import external_url

SUBJECTS = {
    "confirm": lambda: _("Please confirm your signature"),
    "already_signed": lambda: _("You have already signed this petition"),
}


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=12,
)
def send_signature_email(signature_id: int, notice: str) -> None:
    """Email a signer their confirmation link or an "already signed" notice."""
    signature = db.session.get(Signature, signature_id)
    if signature is None:  # erased since it was queued
        return
    petition = signature.petition
    with force_locale(signature.locale):
        _send(signature, petition, notice)


def _send(signature: Signature, petition, notice: str) -> None:
    """Render and send one petition email in the current locale."""
    send_email(
        signature.email,
        SUBJECTS[notice](),
        f"petition/{notice}",
        name=first_name(signature.name),
        petition=petition,
        petition_url=external_url("petition.show", slug=petition.slug),
        confirm_url=external_url(
            "petition.confirm", slug=petition.slug, token=confirmation_token(signature)
        ),
    )
