"""A supporter's data on request, and its erasure, across every feature.

One home for what the site holds about a person: their signatures, their
list membership and consents, their donations. A data request gathers all of
it; erasure removes it:

- signatures are deleted outright (a confirmed one stops counting), with the
  words of the boxes they ticked; petition-update copies lose their link;
- the subscriber and their consents are deleted; the keyed-hash suppression
  entry stays, so an address that unsubscribed or bounced is never mailed;
- donations and monthly gifts keep their amounts, dates and Stripe ids (the
  organisation's accounts need them; they say nothing about the person
  without Stripe) but lose the name and email. What Stripe holds is erased
  in Stripe's dashboard (see the README).

The audit log records that an erasure happened and how many rows, never whose.
"""

import sqlalchemy as sa

from campaign.audit import record
from campaign.donate.models import DONOR_BLANKED, Donation, MonthlyGift
from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.mailing.services import (
    get_subscriber,
    suppression_reason,
    unlink_signatures,
    unlink_subscribers,
)
from campaign.petition.models import PetitionPdf, Signature, SignatureState
from campaign.petition.services import add_to_count, forget_count


def supporter_signatures(email: str) -> list[Signature]:
    """Every signature made with this address (however it was written)."""
    return list(
        db.session.scalars(
            sa.select(Signature)
            .where(Signature.email_hash == email_hash(email))
            .order_by(Signature.id)
        )
    )


def supporter_record(email: str) -> dict:
    """Everything held about a supporter, ready to hand over as JSON."""
    return {
        "email": email,
        "signatures": [
            {
                "petition": s.petition.slug,
                "name": s.name,
                "email": s.email,
                "country": s.country,
                "comment": s.comment,
                "state": s.state.value,
                "signed_at": s.created_at.isoformat(),
                "confirmed_at": s.validated_at.isoformat() if s.validated_at else None,
                "consents": {
                    "mailing_list": s.join_list,
                    "petition_updates": s.wants_updates,
                    "show_name_publicly": s.public,
                },
                "updates_stopped_at": s.updates_stopped_at.isoformat()
                if s.updates_stopped_at
                else None,
                "consent_wordings": [
                    {
                        "box": c.purpose.value,
                        "wording": c.wording,
                        "language": c.locale,
                        "given_at": c.given_at.isoformat(),
                    }
                    for c in s.consents
                ],
                "comment_hidden_by_moderator": s.comment_hidden,
                "name_hidden_by_moderator": s.name_hidden,
                "language": s.locale,
                "client_address": "kept only as a keyed hash" if s.ip_key else None,
            }
            for s in supporter_signatures(email)
        ],
        "mailing_list": subscriber_record(email),
        **donor_record(email),
    }


def erase_supporter(email: str, organiser, action: str = "erase-supporter") -> int:
    """Delete everything held about a supporter; confirmed signatures stop counting.

    Their donations keep their amounts but lose the name and email. ``action``
    is what the audit log calls it (the supporter may have asked themselves).
    """
    found = supporter_signatures(email)
    subscribed = erase_subscriber(email)
    petitions = remove_signatures(found)
    donations = forget_donor(email)
    # The log says that an erasure happened, never whose.
    detail = f"{len(found)} signature(s), {donations} donation record(s)"
    if subscribed:
        detail += ", list membership"
    record(organiser, action, detail, len(found) + donations)
    db.session.commit()
    forget_counts(petitions)
    return len(found)


def remove_signatures(found: list[Signature]) -> set[int]:
    """Delete these signatures and their consents (uncommitted): confirmed
    ones stop counting at once. Return their petitions' ids, for
    ``forget_counts`` once the caller has committed."""
    unlink_signatures([s.id for s in found])
    for signature in found:
        if signature.state is SignatureState.VALIDATED:
            add_to_count(signature.petition_id, -1)
        db.session.delete(signature)
    # Stored petition PDFs may print their name: made again on request.
    petitions = {s.petition_id for s in found}
    if petitions:
        db.session.execute(
            sa.delete(PetitionPdf).where(PetitionPdf.petition_id.in_(petitions))
        )
    return petitions


def forget_counts(petitions: set[int]) -> None:
    """After the commit that removed signatures: their petitions' public
    counts and latest signers are read afresh."""
    for petition_id in petitions:
        forget_count(petition_id)


def subscriber_record(email: str) -> dict | None:
    """What the list holds about an address, for a data request (or None)."""
    subscriber = get_subscriber(email)
    reason = suppression_reason(email)
    if subscriber is None:
        return {"suppressed": reason.value} if reason else None
    stamp = lambda moment: moment.isoformat() if moment else None  # noqa: E731
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "country": subscriber.country,
        "state": subscriber.state.value,
        "joined_at": stamp(subscriber.created_at),
        "confirmed_at": stamp(subscriber.confirmed_at),
        "unsubscribed_at": stamp(subscriber.unsubscribed_at),
        "language": subscriber.locale,
        "soft_bounces": subscriber.soft_bounces,
        "suppressed": reason.value if reason else None,
        "consents": [
            {
                "source": consent.source,
                "wording": consent.wording,
                "given_at": stamp(consent.given_at),
                "confirmed_at": stamp(consent.confirmed_at),
            }
            for consent in subscriber.consents
        ],
    }


def erase_subscriber(email: str) -> bool:
    """Delete the subscriber and their consents (the caller commits).

    Broadcast ledger rows keep their counts but lose the link to the person.
    The hashed suppression entry stays, so an erased address that unsubscribed
    or bounced is still never mailed.
    """
    subscriber = get_subscriber(email)
    if subscriber is None:
        return False
    db.session.delete(subscriber)
    unlink_subscribers([subscriber.id])
    return True


def _matching(model, email: str):
    """Rows of a model held for this address (found by its keyed hash)."""
    return sa.select(model).where(model.email_hash == email_hash(email))


def donor_record(email: str) -> dict:
    """Everything held about a donor, ready to hand over as JSON."""
    donations = db.session.scalars(_matching(Donation, email).order_by(Donation.id))
    gifts = db.session.scalars(_matching(MonthlyGift, email).order_by(MonthlyGift.id))
    return {
        "donations": [
            {
                "kind": d.kind.value,
                "state": d.state.value,
                "amount_minor_units": d.amount,
                "refunded_minor_units": d.refunded_amount,
                "currency": d.currency,
                "name": d.name,
                "email": d.email,
                "paid_at": d.paid_at.isoformat() if d.paid_at else None,
                "stripe_payment": d.payment_intent_id or d.invoice_id,
            }
            for d in donations
        ],
        "monthly_gifts": [
            {
                "state": g.state.value,
                "amount_minor_units": g.amount,
                "currency": g.currency,
                "name": g.name,
                "email": g.email,
                "stripe_subscription": g.subscription_id,
            }
            for g in gifts
        ],
    }


def forget_donor(email: str) -> int:
    """Blank a donor's name and email everywhere (uncommitted); return the rows."""
    changed = 0
    for model in (Donation, MonthlyGift):
        changed += db.session.execute(
            sa.update(model)
            .where(model.email_hash == email_hash(email))
            .values(DONOR_BLANKED)
            .execution_options(synchronize_session=False)
        ).rowcount
    return changed
