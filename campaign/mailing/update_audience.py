"""Who gets a petition's updates (Audience.PETITION_UPDATES), for the ledger.

The petition's confirmed signers who ticked "Email me about this petition's
progress" and have not stopped it, less any address on the suppression list.
They need not be list subscribers, so their ledger rows name the signature
(``Delivery.signature_id``, unique per broadcast like ``subscriber_id``) and
their copies carry a link stopping that petition's updates only. The
suppression list is checked in Python (it may still hold a pre-0021 key of an
erased address, which only the address makes), a chunk per query: when the
ledger is made and again when a batch is claimed (an address may be
suppressed in between).
"""

import sqlalchemy as sa

from campaign.extensions import db
from campaign.mailing.models import Delivery, DeliveryState
from campaign.mailing.services import suppressed_addresses
from campaign.petition.models import Signature, SignatureState
from campaign.petition.tokens import stop_updates_token
from campaign.privacy.self_service import withdraw_token


def wanting(petition_id: int | None = None) -> list:
    """Conditions on Signature: confirmed, asked for updates, not stopped."""
    conditions = [
        Signature.state == SignatureState.VALIDATED,
        Signature.wants_updates.is_(True),
    ]
    if petition_id is not None:
        conditions.append(Signature.petition_id == petition_id)
    return conditions


def _signers(petition_id: int) -> list[int]:
    """The ids of the signatures a petition's update goes to now, in id order."""
    rows = db.session.execute(
        sa.select(Signature.id, Signature.email)
        .where(*wanting(petition_id))
        .order_by(Signature.id)
    ).all()
    blocked = suppressed_addresses(row.email for row in rows)
    return [row.id for row in rows if row.email not in blocked]


def update_reach(petition_id: int) -> int:
    """How many people an update of this petition would reach now."""
    return len(_signers(petition_id))


def add_signer_deliveries(broadcast) -> int:
    """The ledger rows of a petition update's broadcast, one per signer (in
    the caller's unit of work); returns how many."""
    ids = _signers(broadcast.petition_id)
    if ids:
        db.session.execute(
            sa.insert(Delivery),
            [
                {
                    "broadcast_id": broadcast.id,
                    "signature_id": signature_id,
                    "state": DeliveryState.PENDING,
                    "attempts": 0,
                }
                for signature_id in ids
            ],
        )
    return len(ids)


def signer_recipients(rows: list[tuple[int, int]]) -> dict[int, tuple[str, str, str]]:
    """For claimed ``(delivery id, signature id)`` pairs: ``{delivery id:
    (email, stop-link token, locale)}`` of those still to be sent a copy;
    the others (stopped, removed, suppressed since) are left out."""
    if not rows:
        return {}
    found = {
        row.id: row
        for row in db.session.execute(
            sa.select(
                Signature.id,
                Signature.email,
                Signature.email_hash,
                Signature.locale,
            ).where(Signature.id.in_([s for _, s in rows]), *wanting())
        )
    }
    blocked = suppressed_addresses(row.email for row in found.values())
    return {
        delivery_id: (
            row.email,
            stop_updates_token(row),
            row.locale,
            withdraw_token(row),
        )
        for delivery_id, signature_id in rows
        if (row := found.get(signature_id)) is not None and row.email not in blocked
    }
