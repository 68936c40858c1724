"""Signature confirmation links (see campaign/tokens.py)."""

from campaign.petition.models import Signature
from campaign.tokens import ExpiredLink, InvalidLink, link_token, row_from_token

__all__ = ["ExpiredLink", "InvalidLink", "confirmation_token", "signature_from_token"]
TOKEN_SALT = "petition-confirm"  # noqa: S105 - a namespace, not a secret


def confirmation_token(signature: Signature) -> str:
    """An unguessable, expiring link token for this signature only."""
    return link_token(TOKEN_SALT, signature)


def signature_from_token(token: str) -> Signature:
    """The signature a confirmation token names, or InvalidLink/ExpiredLink."""
    return row_from_token(TOKEN_SALT, Signature, token)
