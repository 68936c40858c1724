"""Confirmation links: signed, expiring, single-purpose, bound to one address."""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from campaign.extensions import db
from campaign.petition.models import Signature

TOKEN_SALT = "petition-confirm"  # noqa: S105 - a namespace, not a secret


class InvalidLink(Exception):
    """A confirmation link that is not one of ours, or no longer matches."""


class ExpiredLink(InvalidLink):
    """A genuine confirmation link that is too old."""


def _serializer() -> URLSafeTimedSerializer:
    """The signer for confirmation links; the salt keeps them single-purpose."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _email_tag(signature: Signature) -> str:
    """A short digest binding a link to the address it was sent to."""
    return hashlib.sha256(signature.canonical_email.encode()).hexdigest()[:12]


def confirmation_token(signature: Signature) -> str:
    """An unguessable, expiring link token for this signature only."""
    return _serializer().dumps([signature.id, _email_tag(signature)])


def signature_from_token(token: str) -> Signature:
    """The signature a confirmation token names, or InvalidLink/ExpiredLink."""
    max_age = current_app.config["CONFIRM_TOKEN_MAX_AGE"]
    try:
        signature_id, tag = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise ExpiredLink from error
    except (BadSignature, ValueError, TypeError) as error:
        raise InvalidLink from error
    signature = db.session.get(Signature, signature_id)
    if signature is None or _email_tag(signature) != tag:
        raise InvalidLink
    return signature
