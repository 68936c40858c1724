"""Signature confirmation links (see campaign/tokens.py)."""

from campaign.petition.models import Signature
from campaign.tokens import (
    ExpiredLink,
    InvalidLink,
    address_matches,
    link_token,
    row_from_token,
    token_payload,
)

__all__ = [
    "ExpiredLink",
    "InvalidLink",
    "address_matches",
    "confirmation_token",
    "signature_from_token",
    "signature_link",
]
TOKEN_SALT = "petition-confirm"  # noqa: S105 - a namespace, not a secret


def confirmation_token(signature: Signature) -> str:
    """An unguessable, expiring link token for this signature only."""
    return link_token(TOKEN_SALT, signature)


def signature_from_token(token: str) -> Signature:
    """The signature a confirmation token names, or InvalidLink/ExpiredLink."""
    return row_from_token(TOKEN_SALT, Signature, token)


def signature_link(token: str) -> tuple[int, str]:
    """The signature id and address tag a confirmation token carries, checked
    for signature and age only (InvalidLink/ExpiredLink): no database read."""
    return token_payload(TOKEN_SALT, token)
