"""Emailed links: signed, expiring, single-purpose, bound to one address."""

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from campaign.extensions import db


class InvalidLink(Exception):
    """A link that is not one of ours, or no longer matches."""


class ExpiredLink(InvalidLink):
    """A genuine link that is too old."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    """The signer for one kind of link; the salt keeps links single-purpose."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _address_tag(canonical_email: str) -> str:
    """A short digest binding a link to the address it was sent to."""
    return hashlib.sha256(canonical_email.encode()).hexdigest()[:12]


def link_token(salt: str, row) -> str:
    """An unguessable, expiring token naming ``row`` (which has an address)."""
    return _serializer(salt).dumps([row.id, _address_tag(row.canonical_email)])


def token_payload(
    salt: str, token: str, expires: bool = True, max_age: str = "CONFIRM_TOKEN_MAX_AGE"
) -> tuple[int, str]:
    """The row id and address tag a token carries, or InvalidLink/ExpiredLink.

    ``expires=False`` for links that must keep working (a way to stop emails);
    ``max_age`` names the setting saying how long the others work.
    """
    max_age = current_app.config[max_age] if expires else None
    try:
        row_id, tag = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise ExpiredLink from error
    except (BadSignature, ValueError, TypeError) as error:
        raise InvalidLink from error
    if not isinstance(row_id, int) or not isinstance(tag, str):
        raise InvalidLink
    return row_id, tag


def address_matches(canonical_email: str, tag: str) -> bool:
    """Whether a token's tag names this address (the link was sent to it)."""
    return hmac.compare_digest(_address_tag(canonical_email), tag)


def row_from_token(salt: str, model, token: str, expires: bool = True, **max_age: str):
    """The ``model`` row a token names, or InvalidLink/ExpiredLink."""
    row_id, tag = token_payload(salt, token, expires, **max_age)
    row = db.session.get(model, row_id)
    if row is None or not address_matches(row.canonical_email, tag):
        raise InvalidLink
    return row
