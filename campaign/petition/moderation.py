"""Moderating signatures: invalidate (one or in bulk), hide names and comments.

Counts follow every change: a confirmed signature that is invalidated is
taken off its petition's counter in the same commit. Every action is
audited, naming the signature's id, never the person.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from campaign.audit import record
from campaign.csvstream import describe
from campaign.extensions import db
from campaign.petition.exports import signed_between
from campaign.petition.models import Petition, Signature, SignatureState
from campaign.petition.services import add_to_count, forget_count

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
    forget_count(signature.petition_id)  # the latest signers, and the pages


def hide_comment(signature: Signature, organiser) -> None:
    """Stop showing a signer's comment on the petition page (the name stays)."""
    signature.comment_hidden = True
    record(organiser, "hide-comment", f"signature {signature.id}", 1)
    db.session.commit()
    forget_count(signature.petition_id)  # the latest signers, and the pages


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
