"""Giving: amounts and their bounds, the Checkout Session, the manage link.

Nothing here records a donation: only Stripe's webhook does (webhooks.py).
Configured amounts (DONATION_MIN, DONATION_MAX, DONATION_PRESETS) are whole
currency units; everything stored or sent to Stripe is in minor units.
"""

import hashlib
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from campaign.config import site_text
from campaign.donate import stripe_api
from campaign.donate.models import DonationKind
from campaign.i18n.numbers import format_currency
from campaign.urls import external_url

# Currencies Stripe takes in whole units (no cents).
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
MANAGE_SALT = "donate-manage"  # noqa: S105 - a namespace, not a secret


class NotConfigured(Exception):
    """No Stripe keys: online donations are switched off."""


class AmountError(ValueError):
    """An amount the campaign does not take, with a message for the donor."""


class InvalidLink(Exception):
    """A manage link that is not one of ours."""


class ExpiredLink(InvalidLink):
    """A genuine manage link that is too old."""


def is_configured() -> bool:
    """Whether both Stripe keys are set, so donations can be taken and recorded."""
    config = current_app.config
    return bool(config["STRIPE_SECRET_KEY"] and config["STRIPE_WEBHOOK_SECRET"])


def currency() -> str:
    """The configured currency, lower-case (as Stripe writes it)."""
    return current_app.config["DONATION_CURRENCY"]


def minor_per_major(code: str) -> int:
    """How many minor units make one whole unit of a currency."""
    return 1 if code.lower() in ZERO_DECIMAL else 100


def to_major(amount: int, code: str) -> Decimal:
    """Minor units as whole units (2500 cents: 25)."""
    return Decimal(amount) / minor_per_major(code)


def money(amount: int, code: str) -> str:
    """An amount in minor units, written for people ("$25", "$12.50")."""
    major = to_major(amount, code)
    if major == major.to_integral_value():
        return format_currency(major, code.upper(), "¤#,##0", currency_digits=False)
    return format_currency(major, code.upper())


def presets() -> list[int]:
    """The preset amounts offered, in whole units."""
    words = current_app.config["DONATION_PRESETS"].split(",")
    return [int(word) for word in words if word.strip()]


def bounds() -> tuple[int, int]:
    """The smallest and largest gift taken, in minor units."""
    per = minor_per_major(currency())
    config = current_app.config
    return config["DONATION_MIN"] * per, config["DONATION_MAX"] * per


def to_minor(amount: Decimal) -> int:
    """A whole-unit amount in minor units, within bounds, or AmountError."""
    low, high = bounds()
    try:
        minor = Decimal(amount) * minor_per_major(currency())
    except (InvalidOperation, TypeError) as error:
        raise AmountError(_("Enter an amount, like 25.")) from error
    if minor != minor.to_integral_value():
        raise AmountError(_("Enter a whole amount, like 25."))
    if not low <= minor <= high:
        raise AmountError(
            _(
                "Give between %(low)s and %(high)s.",
                low=money(low, currency()),
                high=money(high, currency()),
            )
        )
    return int(minor)


def start_checkout(
    amount: Decimal,
    kind: DonationKind,
    attempt: str,
    email: str | None = None,
    name: str | None = None,
    source: str = "banner",
    client_ip: str | None = None,
) -> str:
    """Create a Stripe Checkout Session for a gift; return where to send the donor.

    ``attempt`` comes from the form the donor filled in, so sending the same
    form twice reuses one session (Stripe's idempotency key) instead of two.
    A cached page gives every visitor the same ``attempt`` until campaign.js
    replaces it, so the donor's address is part of the key as well.
    """
    if not is_configured():
        raise NotConfigured
    minor = to_minor(amount)
    metadata = {
        "campaign": current_app.config["DONATION_CAMPAIGN"],
        "kind": kind.value,
        "source": source,
        # The page's language, for the receipts (every month's, through the
        # subscription's metadata that each invoice carries).
        "locale": str(get_locale()),
    }
    if name:
        metadata["donor_name"] = name
    params = checkout_params(minor, kind, metadata, email)
    key = hashlib.sha256(
        repr((attempt, client_ip, minor, kind.value, currency(), email, name)).encode()
    ).hexdigest()
    return stripe_api.create_checkout_session(params, f"checkout-{key}")


def checkout_params(minor: int, kind: DonationKind, metadata: dict, email) -> dict:
    """The Checkout Session's parameters: one line, the gift itself."""
    site = site_text("SITE_NAME")
    price = {
        "currency": currency(),
        "unit_amount": minor,
        "product_data": {"name": _("Donation to %(site)s", site=site)},
    }
    params = {
        "line_items": [{"price_data": price, "quantity": 1}],
        "success_url": external_url("donate.thanks"),
        "cancel_url": external_url("donate.cancelled"),
        "metadata": metadata,
    }
    if kind is DonationKind.MONTHLY:
        price["recurring"] = {"interval": "month"}
        params["mode"] = "subscription"
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["mode"] = "payment"
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": metadata}
    if email:
        params["customer_email"] = email
    return params


def _manage_serializer() -> URLSafeTimedSerializer:
    """The signer for manage links; the salt keeps them single-purpose."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=MANAGE_SALT)


def manage_url(customer_id: str) -> str:
    """A link (for a receipt) that opens the donor's Stripe customer portal."""
    token = _manage_serializer().dumps(customer_id)
    return external_url("donate.manage", token=token)


def portal_url(token: str) -> str:
    """Open the customer portal for the donor a manage link names."""
    if not is_configured():
        raise NotConfigured
    max_age = current_app.config["DONATION_MANAGE_LINK_MAX_AGE"]
    try:
        customer_id = _manage_serializer().loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise ExpiredLink from error
    except BadSignature as error:
        raise InvalidLink from error
    return stripe_api.create_portal_session(customer_id, external_url("donate.index"))
