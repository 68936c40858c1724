"""Emailed links: signed, expiring, single-purpose, bound to one address."""

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


def address_hash(row) -> str | None:
    """The keyed hash of a row's address (``email_hash``, or a subscriber's
    ``email_key``, the same hash); None once the row is anonymised."""
    value = getattr(row, "email_hash", None)
    return value if value is not None else getattr(row, "email_key", None)


def _address_tag(address_hash: str) -> str:
    """A short tag binding a link to the address it was sent to: a prefix of
    the row's keyed hash (HASH_KEY), so a link never carries an unkeyed hash
    of the address that anyone could compute from a guessed one."""
    return address_hash[:16]


def link_token(salt: str, row) -> str:
    """An unguessable, expiring token naming ``row`` (which has an address)."""
    return _serializer(salt).dumps([row.id, _address_tag(address_hash(row))])


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


def address_matches(address_hash: str | None, tag: str) -> bool:
    """Whether a token's tag names the address of this keyed hash (the link
    was sent to it); never for an anonymised row."""
    return address_hash is not None and hmac.compare_digest(
        _address_tag(address_hash), tag
    )


def row_from_token(salt: str, model, token: str, expires: bool = True, **max_age: str):
    """The ``model`` row a token names, or InvalidLink/ExpiredLink."""
    row_id, tag = token_payload(salt, token, expires, **max_age)
    row = db.session.get(model, row_id)
    if row is None or not address_matches(address_hash(row), tag):
        raise InvalidLink
    return row
