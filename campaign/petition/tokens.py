"""Signature links: confirming, and stopping updates (see campaign/tokens.py)."""

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
    "stop_updates_token",
    "signature_from_stop_token",
]
TOKEN_SALT = "petition-confirm"  # noqa: S105 - a namespace, not a secret
STOP_SALT = "petition-updates-stop"  # noqa: S105 - a namespace, not a secret


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


def stop_updates_token(signature) -> str:
    """The token in a petition update's stop link: names the signature (any
    row with ``id`` and ``email_hash``) and never expires."""
    return link_token(STOP_SALT, signature)


def signature_from_stop_token(token: str) -> Signature:
    """The signature a stop link names, or InvalidLink."""
    return row_from_token(STOP_SALT, Signature, token, expires=False)
