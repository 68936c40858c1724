"""Moderating signatures, with a way back: invalidate and restore (one or in
bulk, previewed first), hide and show again names and comments.

Counts follow every change exactly: each move is a conditional UPDATE on the
state it leaves (``WHERE state = …``), and the counter moves by the rows it
changed, in the same commit. So restoring twice, undoing the same action in
two requests at once, or restoring a signature that was never confirmed
leaves the count equal to a recount. A restored signature goes back to where
it was: confirmed if it had been (``validated_at`` is kept), else pending.

Each invalidation gets a removal key stored on the rows it took, so "Undo"
puts back exactly those rows. Every action and undo is audited with its
count, naming signature ids or the criteria, never the person.
"""

import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from campaign.audit import record
from campaign.csvstream import describe
from campaign.encryption import domain_hash
from campaign.extensions import db
from campaign.models import now_utc
from campaign.petition.exports import signed_between
from campaign.petition.models import (
    Notice,
    Petition,
    Signature,
    SignatureState,
    not_anonymised,
)
from campaign.petition.services import add_to_count, forget_count

LIVE = (SignatureState.PENDING, SignatureState.VALIDATED)
# What "restore" takes back: an organiser's removals, and the signatures
# kept as fraudulent past the signing limits (campaign/abuse.py).
REMOVED = (SignatureState.INVALIDATED, SignatureState.FRAUDULENT)
# How many of the selected signatures a bulk preview lists.
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Selection:
    """Which signatures of a petition a bulk action takes."""

    signature_id: int | None = None
    email_domain: str | None = None
    since: date | None = None
    until: date | None = None
    ip_key: str | None = None
    removal: str | None = None

    def conditions(self, petition: Petition, states=LIVE) -> list:
        """SQL conditions for this selection among signatures in ``states``."""
        found = [Signature.petition_id == petition.id, Signature.state.in_(states)]
        if self.signature_id:
            found.append(Signature.id == self.signature_id)
        if self.email_domain:
            # Addresses are encrypted: the domain is found by its keyed hash.
            found.append(Signature.domain_key == domain_hash(self.email_domain))
        found += signed_between(self.since, self.until)
        if self.ip_key:
            found.append(Signature.ip_key == self.ip_key)
        if self.removal:
            found.append(Signature.removal == self.removal)
        return found

    def describe(self) -> str:
        """A line for the audit log."""
        return describe(self)


@dataclass(frozen=True)
class Preview:
    """What a bulk action would take: how many, and the first of them."""

    count: int
    first: list[Signature]


def _states(restoring: bool) -> tuple[SignatureState, ...]:
    """The states a bulk action takes signatures from."""
    return REMOVED if restoring else LIVE


def preview(petition: Petition, selection: Selection, restoring=False) -> Preview:
    """How many signatures an invalidation (or a restore) would take, and
    the first PREVIEW_ROWS of them, oldest first."""
    where = selection.conditions(petition, _states(restoring))
    total = db.session.scalar(sa.select(sa.func.count()).where(*where))
    first = db.session.scalars(
        sa.select(Signature).where(*where).order_by(Signature.id).limit(PREVIEW_ROWS)
    )
    return Preview(total, list(first))


def _one_at_a_time(petition: Petition) -> None:
    """Wait for any other bulk action on this petition to commit first.

    Two bulk actions with different selections (an Undo by removal key, a
    restore by email domain) reach the same rows through different indexes,
    so in different orders: on PostgreSQL each can hold a row the other
    waits for, a deadlock (CI met it with eight racing restores). Taking the
    petition's row first puts them in line; ``FOR NO KEY UPDATE`` still lets
    signing (which only takes ``KEY SHARE`` on it) go on. SQLite serialises
    writers anyway and ignores the clause.
    """
    db.session.execute(
        sa.select(Petition.id)
        .where(Petition.id == petition.id)
        .with_for_update(key_share=True)
    )


def invalidate(petition: Petition, selection: Selection, organiser) -> tuple[int, str]:
    """Invalidate the selected signatures; the count drops by the confirmed
    ones. Return how many changed and the removal key "Undo" takes back."""
    key = secrets.token_hex(8)
    _one_at_a_time(petition)
    changed = 0
    # Confirmed first: their number comes off the counter. A confirmation
    # racing with this only ever moves pending to validated, so none is lost.
    for state in (SignatureState.VALIDATED, SignatureState.PENDING):
        moved = db.session.execute(
            sa.update(Signature)
            .where(*selection.conditions(petition), Signature.state == state)
            .values(state=SignatureState.INVALIDATED, notice=None, removal=key)
            .execution_options(synchronize_session=False)
        ).rowcount
        if state is SignatureState.VALIDATED and moved:
            add_to_count(petition.id, -moved)
        changed += moved
    record(organiser, "invalidate", f"{petition.slug}: {selection.describe()}", changed)
    db.session.commit()
    forget_count(petition.id)
    return changed, key


def restore(
    petition: Petition, selection: Selection, organiser, action: str = "restore"
) -> int:
    """Put invalidated signatures back where they were (confirmed ones count
    again); return how many changed. ``action`` names it in the audit log
    ("restore", or "undo-invalidate" for an Undo). One kept as fraudulent
    was never emailed: it becomes pending and its confirmation link is due."""
    removed = selection.conditions(petition, REMOVED)
    fraudulent = Signature.state == SignatureState.FRAUDULENT
    now = now_utc()
    _one_at_a_time(petition)
    changed = 0
    for was_confirmed in (True, False):
        back_to = SignatureState.VALIDATED if was_confirmed else SignatureState.PENDING
        confirmed = Signature.validated_at.is_not(None)
        moved = db.session.execute(
            sa.update(Signature)
            # Re-checked on the row as it is now: a second restore, or an Undo
            # racing this one, finds it no longer invalidated and moves nothing.
            .where(*removed, confirmed if was_confirmed else sa.not_(confirmed))
            .values(
                state=back_to,
                removal=None,
                notice=sa.case(
                    (fraudulent, Notice.CONFIRM.value), else_=Signature.notice
                ),
                notified_at=sa.case((fraudulent, now), else_=Signature.notified_at),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if was_confirmed and moved:
            add_to_count(petition.id, moved)
        changed += moved
    record(organiser, action, f"{petition.slug}: {selection.describe()}", changed)
    db.session.commit()
    forget_count(petition.id)
    if changed:
        # Imported here: the task module pulls in Celery (see services.py).
        from campaign.petition.tasks import kick_sender

        kick_sender()
    return changed


def undo_invalidation(petition: Petition, key: str, organiser) -> int:
    """Restore exactly the signatures one invalidation took (those still removed)."""
    return restore(petition, Selection(removal=key), organiser, "undo-invalidate")


def invalidate_one(signature: Signature, organiser) -> tuple[int, str]:
    """Invalidate a single signature."""
    return invalidate(
        signature.petition, Selection(signature_id=signature.id), organiser
    )


def restore_one(signature: Signature, organiser) -> int:
    """Restore a single invalidated signature."""
    return restore(signature.petition, Selection(signature_id=signature.id), organiser)


def get_signature(signature_id: int) -> Signature | None:
    """One signature, by id."""
    return db.session.get(Signature, signature_id)


# Each flag an organiser sets or clears on one signature: the audit codes for
# setting and clearing it.
FLAGS = {
    "name_hidden": ("hide-public", "show-public"),
    "comment_hidden": ("hide-comment", "show-comment"),
}


def _flag(signature: Signature, column: str, value: bool, organiser, action) -> int:
    """Set a moderation flag if it is not already so; audit it; return 1 if
    it changed (a repeat, or a second Undo, changes and counts nothing)."""
    flag = getattr(Signature, column)
    changed = db.session.execute(
        sa.update(Signature)
        .where(Signature.id == signature.id, flag.is_(not value))
        .values({column: value})
        .execution_options(synchronize_session=False)
    ).rowcount
    record(organiser, action, f"signature {signature.id}", changed)
    db.session.commit()
    db.session.refresh(signature)
    forget_count(signature.petition_id)  # the latest signers, and the pages
    return changed


def hide_public(signature: Signature, organiser, action="hide-public") -> int:
    """Stop showing a signer's first name and country on the petition page."""
    return _flag(signature, "name_hidden", True, organiser, action)


def show_public(signature: Signature, organiser, action="show-public") -> int:
    """Show again a name an organiser hid (only if the signer chose to be shown)."""
    return _flag(signature, "name_hidden", False, organiser, action)


def hide_comment(signature: Signature, organiser, action="hide-comment") -> int:
    """Stop showing a signer's comment on the petition page (the name stays)."""
    return _flag(signature, "comment_hidden", True, organiser, action)


def show_comment(signature: Signature, organiser, action="show-comment") -> int:
    """Show again a comment an organiser hid."""
    return _flag(signature, "comment_hidden", False, organiser, action)


@dataclass(frozen=True)
class Done:
    """What one action on a signature changed, and what undoing it needs
    (kept in the organiser's session until they undo or act again)."""

    changed: int
    undo: dict | None = None


def act(signature: Signature, action: str, organiser) -> Done:
    """Apply one of ACTIONS to a signature."""
    if action == "invalidate":
        changed, key = invalidate_one(signature, organiser)
        return Done(changed, {"action": action, "key": key, "count": changed})
    changed = ACTIONS[action](signature, organiser)
    undoable = action in ("hide", "hide-comment")
    return Done(
        changed, {"action": action, "signature_id": signature.id} if undoable else None
    )


def undo(petition: Petition, last: dict, organiser) -> int:
    """Take back the action ``last`` describes (from ``act`` or a bulk
    invalidation) on this petition; return how many signatures changed."""
    if last["action"] == "invalidate":
        return undo_invalidation(petition, last["key"], organiser)
    signature = get_signature(last["signature_id"])
    if signature is None or signature.petition_id != petition.id:
        return 0
    if last["action"] == "hide":
        return show_public(signature, organiser, "undo-hide-public")
    return show_comment(signature, organiser, "undo-hide-comment")


def _shown_comment() -> list:
    """Conditions for a confirmed signer's comment the petition page may show."""
    return [
        Signature.state == SignatureState.VALIDATED,
        Signature.public.is_(True),
        Signature.name_hidden.is_(False),
        # Never "": signing stores no comment as NULL (and, encrypted, a
        # comparison with "" could not work anyway).
        Signature.comment.is_not(None),
    ]


def public_comments(petition: Petition, limit: int = 100) -> list[Signature]:
    """The latest comments the petition page may show, for moderators to review."""
    return _latest(
        petition,
        [*_shown_comment(), Signature.comment_hidden.is_(False)],
        Signature.validated_at,
        limit,
    )


# What the moderation page can list, beside the public comments: the
# signatures an organiser took off or hid, to put back.
LISTS = {
    "removed": lambda: [Signature.state.in_(REMOVED)],
    "hidden-comments": lambda: [
        Signature.comment_hidden.is_(True),
        Signature.comment.is_not(None),
    ],
    "hidden-names": lambda: [Signature.name_hidden.is_(True)],
}


# What an organiser may do to one signature from the organiser pages.
ACTIONS = {
    "invalidate": invalidate_one,
    "restore": restore_one,
    "hide": hide_public,
    "show": show_public,
    "hide-comment": hide_comment,
    "show-comment": show_comment,
}


def moderated(petition: Petition, which: str, limit: int = 100) -> list[Signature]:
    """The latest signatures in one of LISTS (newest change first)."""
    return _latest(petition, LISTS[which](), Signature.updated_at, limit)


def _latest(petition: Petition, where: list, newest, limit: int) -> list[Signature]:
    """A petition's signatures matching ``where``, newest first."""
    return list(
        db.session.scalars(
            sa.select(Signature)
            .where(Signature.petition_id == petition.id, *where)
            .order_by(newest.desc(), Signature.id.desc())
            .limit(limit)
        )
    )


def confirmed_signers(petition: Petition):
    """Names and countries of confirmed signers, oldest first, streamed;
    without those retention left nameless (delivery.anonymised_count counts them).

    A generator, so the query runs while the page streams, not before.
    """
    yield from db.session.execute(
        sa.select(Signature.name, Signature.country)
        .where(
            Signature.petition_id == petition.id,
            Signature.state == SignatureState.VALIDATED,
            not_anonymised(),
        )
        .order_by(Signature.id)
        .execution_options(yield_per=2000)
    )
