"""Self-service emails, sent by the worker: confirming links and data copies."""

from celery import shared_task
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign.email import build_message, sending
from campaign.privacy import self_service

SUBJECTS = {
    "copy": lambda: _("Confirm: email you a copy of your data"),
    "erase": lambda: _("Confirm: delete everything about you"),
}


@shared_task
def send_confirmation(action: str, kind: str, row_id: int) -> bool:
    """Email the link confirming a copy or an erasure (if the row is still there)."""
    row = self_service.row_of(kind, row_id)
    if row is None or not row.email:
        return False
    with force_locale(row.locale):
        message = build_message(
            row.email,
            SUBJECTS[action](),
            f"privacy/confirm_{action}",
            confirm_url=self_service.confirm_url(action, kind, row),
        )
    with sending() as send:
        send(message)
    return True


@shared_task
def send_data_copy(kind: str, row_id: int) -> bool:
    """Email everything held about the row's address, as a JSON attachment."""
    row = self_service.row_of(kind, row_id)
    if row is None or not row.email:
        return False
    data = self_service.data_file(row.email)
    with force_locale(row.locale):
        message = build_message(
            row.email,
            _("A copy of your data"),
            "privacy/data_copy",
            attachments=(("your-data.json", "application/json", data),),
        )
    with sending() as send:
        send(message)
    return True
