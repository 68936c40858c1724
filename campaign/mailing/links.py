"""The links list mail carries: confirm, unsubscribe (RFC 8058), preferences."""

from email.utils import parseaddr

from flask import current_app

from campaign.mailing.models import Subscriber
from campaign.tokens import link_token
from campaign.urls import external_url

CONFIRM_SALT = "mailing-confirm"  # noqa: S105 - a namespace, not a secret


def confirm_url(subscriber: Subscriber) -> str:
    """The double opt-in link: signed, expiring, bound to the address."""
    return external_url("mailing.confirm", token=link_token(CONFIRM_SALT, subscriber))


def unsubscribe_url(token: str) -> str:
    """The one-click unsubscribe address (GET asks, POST does it)."""
    return external_url("mailing.unsubscribe", token=token)


def preferences_url(token: str) -> str:
    """Where a subscriber leaves or comes back."""
    return external_url("mailing.preferences", token=token)


def unsubscribe_mailto(token: str) -> str:
    """The List-Unsubscribe mailto: for mail clients that prefer email."""
    address = current_app.config.get("MAIL_UNSUBSCRIBE_ADDRESS")
    if not address:
        _, sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
        address = f"unsubscribe@{sender.rpartition('@')[2] or 'localhost'}"
    return f"mailto:{address}?subject=unsubscribe%20{token}"


def list_headers(token: str) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers for one recipient's copy."""
    https, mailto = unsubscribe_url(token), unsubscribe_mailto(token)
    return {
        "List-Unsubscribe": f"<{https}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
