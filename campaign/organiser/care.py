"""Looking after supporters' data: moderation, data requests, erasure.

Counts follow every change: a confirmed signature that is invalidated or
erased is taken off its petition's counter in the same commit. Erasure
deletes the signature outright (it stops counting); nothing about the person
is kept, not even in the audit log.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from campaign.donate.care import donor_record, forget_donor
from campaign.extensions import db
from campaign.mailing import services as mailing
from campaign.organiser.exports import describe, signed_between
from campaign.organiser.services import record
from campaign.petition.models import Petition, Signature, SignatureState
from campaign.petition.services import add_to_count, forget_count
from campaign.text import canonical_email

LIVE = (SignatureState.PENDING, SignatureState.VALIDATED)


@dataclass(frozen=True)
class Selection:
    """Which signatures of a petition a bulk invalidation takes."""

    signature_id: int | None = None
    email_domain: str | None = None
    since: date | None = None
    until: date | None = None
    ip_key: str | None = None

    def conditions(self, petition: Petition) -> list:
        """SQL conditions for this selection (live signatures only)."""
        found = [Signature.petition_id == petition.id, Signature.state.in_(LIVE)]
        if self.signature_id:
            found.append(Signature.id == self.signature_id)
        if self.email_domain:
            domain = self.email_domain.strip().lower().lstrip("@")
            found.append(Signature.canonical_email.like(f"%@{domain}"))
        found += signed_between(self.since, self.until)
        if self.ip_key:
            found.append(Signature.ip_key == self.ip_key)
        return found

    def describe(self) -> str:
        """A line for the audit log."""
        return describe(self)


def preview(petition: Petition, selection: Selection) -> int:
    """How many live signatures an invalidation would take."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(*selection.conditions(petition))
    )


def invalidate(petition: Petition, selection: Selection, organiser) -> int:
    """Invalidate the selected signatures; the count drops by the confirmed ones."""
    changed = 0
    # Confirmed first: their number comes off the counter. A confirmation
    # racing with this only ever moves pending to validated, so none is lost.
    for state in (SignatureState.VALIDATED, SignatureState.PENDING):
        moved = db.session.execute(
            sa.update(Signature)
            .where(*selection.conditions(petition), Signature.state == state)
            .values(state=SignatureState.INVALIDATED, notice=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if state is SignatureState.VALIDATED and moved:
            add_to_count(petition.id, -moved)
        changed += moved
    record(organiser, "invalidate", f"{petition.slug}: {selection.describe()}", changed)
    db.session.commit()
    forget_count(petition.id)
    return changed


def invalidate_one(signature: Signature, organiser) -> None:
    """Invalidate a single signature."""
    invalidate(signature.petition, Selection(signature_id=signature.id), organiser)


def get_signature(signature_id: int) -> Signature | None:
    """One signature, by id."""
    return db.session.get(Signature, signature_id)


def hide_public(signature: Signature, organiser) -> None:
    """Stop showing a signer's first name and country on the petition page."""
    signature.public = False
    record(organiser, "hide-public", f"signature {signature.id}", 1)
    db.session.commit()


def hide_comment(signature: Signature, organiser) -> None:
    """Stop showing a signer's comment on the petition page (the name stays)."""
    signature.comment_hidden = True
    record(organiser, "hide-comment", f"signature {signature.id}", 1)
    db.session.commit()


def public_comments(petition: Petition, limit: int = 100) -> list[Signature]:
    """The latest comments the petition page may show, for moderators to review."""
    return list(
        db.session.scalars(
            sa.select(Signature)
            .where(
                Signature.petition_id == petition.id,
                Signature.state == SignatureState.VALIDATED,
                Signature.public.is_(True),
                Signature.comment_hidden.is_(False),
                Signature.comment.is_not(None),
                Signature.comment != "",
            )
            .order_by(Signature.validated_at.desc())
            .limit(limit)
        )
    )


def confirmed_signers(petition: Petition):
    """Names and countries of confirmed signers, oldest first, streamed.

    A generator, so the query runs while the page streams, not before.
    """
    yield from db.session.execute(
        sa.select(Signature.name, Signature.country)
        .where(
            Signature.petition_id == petition.id,
            Signature.state == SignatureState.VALIDATED,
        )
        .order_by(Signature.id)
        .execution_options(yield_per=2000)
    )


def supporter_signatures(email: str) -> list[Signature]:
    """Every signature made with this address (however it was written)."""
    return list(
        db.session.scalars(
            sa.select(Signature)
            .where(Signature.canonical_email == canonical_email(email))
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
                    "show_name_publicly": s.public,
                },
                "comment_hidden_by_moderator": s.comment_hidden,
                "language": s.locale,
                "client_address": "kept only as a keyed hash" if s.ip_key else None,
            }
            for s in supporter_signatures(email)
        ],
        "mailing_list": mailing.subscriber_record(email),
        **donor_record(email),
    }


def erase_supporter(email: str, organiser) -> int:
    """Delete everything held about a supporter; confirmed signatures stop counting.

    Their donations keep their amounts but lose the name and email.
    """
    found = supporter_signatures(email)
    subscribed = mailing.erase_subscriber(email)
    for signature in found:
        if signature.state is SignatureState.VALIDATED:
            add_to_count(signature.petition_id, -1)
        db.session.delete(signature)
    donations = forget_donor(email)
    # The log says that an erasure happened, never whose.
    detail = f"{len(found)} signature(s), {donations} donation record(s)"
    if subscribed:
        detail += ", list membership"
    record(organiser, "erase-supporter", detail, len(found) + donations)
    db.session.commit()
    for petition_id in {s.petition_id for s in found}:
        forget_count(petition_id)
    return len(found)
