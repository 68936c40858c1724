"""Who gets a petition's updates (Audience.PETITION_UPDATES), for the ledger.

The petition's confirmed signers who ticked "Email me about this petition's
progress" and have not stopped it, less any address on the suppression list.
They need not be list subscribers, so their ledger rows name the signature
(``Delivery.signature_id``, unique per broadcast like ``subscriber_id``) and
their copies carry a link stopping that petition's updates only. The
suppression list holds keyed hashes, so it is checked in Python, a chunk of
addresses per query: when the ledger is made and again when a batch is
claimed (an address may be suppressed in between).
"""

from collections.abc import Iterable

import sqlalchemy as sa

from campaign.extensions import db
from campaign.mailing.models import Delivery, DeliveryState, Suppression
from campaign.mailing.services import email_key
from campaign.petition.models import Signature, SignatureState
from campaign.petition.tokens import stop_updates_token
from campaign.privacy.self_service import withdraw_token

CHUNK = 500  # addresses per suppression lookup


def wanting(petition_id: int | None = None) -> list:
    """Conditions on Signature: confirmed, asked for updates, not stopped."""
    conditions = [
        Signature.state == SignatureState.VALIDATED,
        Signature.wants_updates.is_(True),
    ]
    if petition_id is not None:
        conditions.append(Signature.petition_id == petition_id)
    return conditions


def _suppressed(emails: Iterable[str]) -> set[str]:
    """Which of these addresses the suppression list holds."""
    by_key = {email_key(email): email for email in emails}
    keys = list(by_key)
    found = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(
            db.session.scalars(
                sa.select(Suppression.email_key).where(Suppression.email_key.in_(chunk))
            )
        )
    return {by_key[key] for key in found}


def _signers(petition_id: int) -> list[int]:
    """The ids of the signatures a petition's update goes to now, in id order."""
    rows = db.session.execute(
        sa.select(Signature.id, Signature.email)
        .where(*wanting(petition_id))
        .order_by(Signature.id)
    ).all()
    blocked = _suppressed(row.email for row in rows)
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
                Signature.canonical_email,
                Signature.locale,
            ).where(Signature.id.in_([s for _, s in rows]), *wanting())
        )
    }
    blocked = _suppressed(row.email for row in found.values())
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
