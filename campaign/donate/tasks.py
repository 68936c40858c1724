"""Donation receipts, sent by the worker from the receipt outbox.

The webhook marks a receipt as due (``Donation.receipt_due_at``) in the commit
that records the payment; ``send_due_receipts`` sends it through the shared
outbox (campaign/outbox.py) and the one mail path (campaign/email.py).
"""

from celery import shared_task
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign.donate.models import Donation, DonationKind
from campaign.donate.services import manage_url, money
from campaign.email import build_message
from campaign.models import now_utc
from campaign.outbox import Kicker, Outbox, send_due
from campaign.privacy.self_service import donor_data_url
from campaign.urls import external_url

RECEIPTS = Outbox(
    Donation,
    due=Donation.receipt_due_at,
    claim=Donation.receipt_claim,
    claimed_at=Donation.receipt_claimed_at,
    on_sent=lambda: {"receipt_sent_at": now_utc()},
)
_kicker = Kicker("NOTICE_KICK_INTERVAL")


def kick_receipts() -> None:
    """Ask a worker to send due receipts now (the beat schedule also does)."""
    _kicker(send_due_receipts)


@shared_task
def send_due_receipts() -> int:
    """Send every due donation receipt; return how many went out."""
    return send_due(RECEIPTS, receipt)


def receipt(donation: Donation):
    """The receipt for one confirmed payment, with a manage link for monthly
    gifts, in the language the donor gave in (its links open in it too)."""
    monthly = donation.kind is DonationKind.MONTHLY
    with force_locale(donation.locale):
        manage = (
            manage_url(donation.customer_id)
            if monthly and donation.customer_id
            else None
        )
        return build_message(
            donation.email,
            _("Thank you for your donation"),
            "donate/receipt",
            donation=donation,
            amount=money(donation.amount, donation.currency),
            monthly=monthly,
            manage_url=manage,
            donate_url=external_url("donate.index"),
            data_url=donor_data_url(donation),
        )
