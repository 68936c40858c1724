"""Supporters looking after their own data, from the links in their emails.

- Withdraw: a signer's emails link to a page that deletes that signature
  (a confirmed one stops counting at once), through the erasure's own
  ``remove_signatures``.
- Your data: every email to a supporter links to a page offering a copy of
  what we hold or its erasure. Either button only emails the address a second,
  expiring link; opening that and confirming sends the copy (a JSON
  attachment built by ``supporter_record``) or runs ``erase_supporter``.

Every link is a campaign/tokens.py token with its own salt, bound to one row
(a signature, a subscriber or a donation) and the address it was sent to.
The "your data" page's link itself never expires: it shows nothing and can
only email the address it names; the links that act expire after
SELF_SERVICE_LINK_MAX_AGE. Pages reached this way show no name or email.
"""

import json
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa

from campaign.audit import audit
from campaign.donate.models import Donation
from campaign.extensions import db
from campaign.mailing.models import Subscriber
from campaign.mailing.services import never_mail, subscriber_by_token
from campaign.petition.models import Signature
from campaign.petition.tokens import signature_from_stop_token
from campaign.privacy.services import (
    erase_supporter,
    forget_counts,
    remove_signatures,
    supporter_record,
)
from campaign.tokens import (
    ExpiredLink,
    InvalidLink,
    address_hash,
    address_matches,
    link_token,
    token_payload,
)
from campaign.urls import external_url

__all__ = ["ExpiredLink", "InvalidLink"]

WITHDRAW_SALT = "petition-withdraw"  # noqa: S105 - a namespace, not a secret
MAX_AGE = {"max_age": "SELF_SERVICE_LINK_MAX_AGE"}
# The rows a "your data" flow can start from, by the name links carry.
MODELS = {"signature": Signature, "subscriber": Subscriber, "donation": Donation}
ACTIONS = ("copy", "erase")


class Gone(Exception):
    """A genuine link whose row was withdrawn or erased already."""


class _Ref(NamedTuple):
    """What campaign/tokens.py binds a link to: a row id and its address."""

    id: int
    email_hash: str | None


def _address(row) -> str | None:
    """The keyed hash of the address a row holds (a forgotten donor's or an
    anonymised signer's: None)."""
    return address_hash(row)


def _row(salt: str, model, token: str, expires: bool = True):
    """The row a genuine token names; Gone if it is no longer there."""
    row_id, tag = token_payload(salt, token, expires, **MAX_AGE)
    row = db.session.get(model, row_id)
    address = _address(row) if row is not None else None
    # A genuine link to a row that is missing, or whose id now belongs to
    # another address, was acted on already.
    if address is None or not address_matches(address, tag):
        raise Gone
    return row


# Withdrawing a signature


def withdraw_token(signature) -> str:
    """The token of a withdraw link: names the signature (any row with ``id``
    and ``email_hash``) and the address."""
    return link_token(WITHDRAW_SALT, signature)


def withdraw_link(token: str) -> str:
    """The withdraw page for a token (a bulk copy fills its own in)."""
    return external_url("self_service.withdraw", token=token)


def withdraw_url(signature: Signature) -> str:
    """The link in a signer's emails withdrawing this signature."""
    return withdraw_link(withdraw_token(signature))


def signature_to_withdraw(token: str) -> Signature:
    """The signature a withdraw link names: InvalidLink, ExpiredLink or Gone."""
    return _row(WITHDRAW_SALT, Signature, token)


def withdraw(token: str) -> str:
    """Delete the signature a withdraw link names; return its petition's slug.

    The row is locked first, so two presses count it down once.
    """
    signature_id, _ = token_payload(WITHDRAW_SALT, token, **MAX_AGE)
    db.session.scalar(
        sa.select(Signature.id).where(Signature.id == signature_id).with_for_update()
    )
    signature = signature_to_withdraw(token)
    slug = signature.petition.slug
    petitions = remove_signatures([signature])
    db.session.commit()
    forget_counts(petitions)
    return slug


# "Your data": the page, and the two confirmed actions


@dataclass(frozen=True)
class Holder:
    """Whose data a link is about: a row and the address it holds."""

    kind: str  # a key of MODELS
    row_id: int
    email: str


def _holder(kind: str, row) -> Holder:
    """The holder of a found row."""
    return Holder(kind, row.id, row.email)


def data_url(kind: str, token: str) -> str:
    """The "your data" page for a link of this kind."""
    return external_url("self_service.your_data", kind=kind, token=token)


def _data_salt(kind: str) -> str:
    """The salt of the "your data" page's link for rows of this kind."""
    return f"privacy-data-{kind}"


def signer_data_url(signature: Signature) -> str:
    """The "your data" link in a signer's own emails."""
    token = link_token(_data_salt("signature"), signature)
    return data_url("signature", token)


def donor_data_url(donation: Donation) -> str:
    """The "your data" link in a donor's receipt."""
    token = link_token(_data_salt("donation"), _Ref(donation.id, _address(donation)))
    return data_url("donation", token)


def subscriber_data_url(token: str) -> str:
    """The "your data" link in list mail: the subscriber's own token, as the
    unsubscribe link carries (a broadcast fills it in per copy)."""
    return data_url("list", token)


def update_data_url(stop_token: str) -> str:
    """The "your data" link in a petition update: the copy's stop token."""
    return data_url("updates", stop_token)


def holder_from_data_link(kind: str, token: str) -> Holder:
    """Whose "your data" page a link opens: InvalidLink or Gone."""
    if kind == "list":
        subscriber = subscriber_by_token(token)
        if subscriber is None:
            raise InvalidLink
        return _holder("subscriber", subscriber)
    if kind == "updates":
        return _holder("signature", signature_from_stop_token(token))
    if kind not in ("signature", "donation"):
        raise InvalidLink
    return _holder(kind, _row(_data_salt(kind), MODELS[kind], token, expires=False))


def _action_salt(action: str, kind: str) -> str:
    """One salt per action and row kind: a copy link never erases."""
    return f"privacy-{action}-{kind}"


def request_action(holder: Holder, action: str) -> None:
    """Email the holder's address a link confirming ``action`` (sent by the
    worker: nothing here waits for SMTP)."""
    from campaign.privacy.tasks import send_confirmation
    from campaign.tasks import delay

    delay(send_confirmation, action, holder.kind, holder.row_id)


def confirm_url(action: str, kind: str, row) -> str:
    """The expiring link confirming ``action`` for this row's address."""
    token = link_token(_action_salt(action, kind), _Ref(row.id, _address(row)))
    return external_url(
        "self_service.confirm_action", action=action, kind=kind, token=token
    )


def holder_from_action_link(action: str, kind: str, token: str) -> Holder:
    """Whose data a confirming link acts on: InvalidLink, ExpiredLink or Gone."""
    if action not in ACTIONS or kind not in MODELS:
        raise InvalidLink
    return _holder(kind, _row(_action_salt(action, kind), MODELS[kind], token))


def send_copy(holder: Holder) -> None:
    """Queue the email carrying a copy of everything held about the address."""
    from campaign.privacy.tasks import send_data_copy
    from campaign.tasks import delay

    audit(None, "self-export", "data request by the supporter", 1)
    delay(send_data_copy, holder.kind, holder.row_id)


def data_file(email: str) -> bytes:
    """Everything held about an address, as the JSON file a copy attaches."""
    record = supporter_record(email)
    return json.dumps(record, indent=2, ensure_ascii=False).encode()


def erase(holder: Holder) -> int:
    """Erase everything about the holder's address, as an organiser's erasure
    does (audited, never naming them), and never mail it again."""
    never_mail(holder.email)
    return erase_supporter(holder.email, None, action="self-erase")


def row_of(kind: str, row_id: int):
    """The row a queued email is about, or None if it is gone since."""
    model = MODELS.get(kind)
    return db.session.get(model, row_id) if model else None
