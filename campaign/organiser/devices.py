"""Known devices: a signed cookie naming the accounts a browser signed into,
which spares it the per-account sign-in limit strangers can trip."""

import hashlib
import hmac

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "organiser_device"
SALT = "organiser-device"
MAX_AGE = 365 * 24 * 3600
# A shared office computer may sign into a few accounts; the cookie stays small.
MAX_ACCOUNTS = 5


def _serializer() -> URLSafeTimedSerializer:
    """The signer for device cookies; the salt keeps them single-purpose."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def account_tag(email: str) -> str:
    """A short keyed digest naming an account without showing its email."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, email.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def _known_tags() -> list[str]:
    """The accounts this browser's device cookie names (none if it is forged)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return []
    try:
        tags = _serializer().loads(value, max_age=MAX_AGE)
    except BadSignature:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def is_known(email: str) -> bool:
    """Whether this browser has signed into the account ``email`` before."""
    return bool(email) and account_tag(email) in _known_tags()


def remember(response: Response, email: str) -> None:
    """After a full sign-in: name this account in the device cookie."""
    tag = account_tag(email)
    tags = [tag, *[t for t in _known_tags() if t != tag]][:MAX_ACCOUNTS]
    response.set_cookie(
        COOKIE,
        _serializer().dumps(tags),
        max_age=MAX_AGE,
        # Not /organiser/: sign-in is also at /fa/organiser/ and /ps/organiser/.
        path="/",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )
