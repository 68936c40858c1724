"""Emailed links: signed, expiring, single-purpose, bound to one address."""

import hashlib

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


def _email_tag(row) -> str:
    """A short digest binding a link to the address it was sent to."""
    return hashlib.sha256(row.canonical_email.encode()).hexdigest()[:12]


def link_token(salt: str, row) -> str:
    """An unguessable, expiring token naming ``row`` (which has an address)."""
    return _serializer(salt).dumps([row.id, _email_tag(row)])


def row_from_token(salt: str, model, token: str):
    """The ``model`` row a token names, or InvalidLink/ExpiredLink."""
    max_age = current_app.config["CONFIRM_TOKEN_MAX_AGE"]
    try:
        row_id, tag = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise ExpiredLink from error
    except (BadSignature, ValueError, TypeError) as error:
        raise InvalidLink from error
    row = db.session.get(model, row_id)
    if row is None or _email_tag(row) != tag:
        raise InvalidLink
    return row
