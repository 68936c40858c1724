"""Every call to Stripe goes through here, on the real ``stripe`` library.

``STRIPE_API_BASE`` points the library at another address (a local stand-in
in tests). Any failure to get an answer from Stripe becomes
``ProviderUnavailable``: the caller tells the donor nothing was charged.

``stripe`` is imported on first use: it costs every ``flask`` command (an
export, a migration) a twentieth of a second otherwise.
"""

import functools
import json
import logging
import re
import time

from flask import current_app

log = logging.getLogger(__name__)
# Stripe's events nest about ten levels; json recurses once per level.
MAX_NESTING = 64
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
NOT_A_BRACKET = re.compile(rb"[^\[\]{}]+")
OPENERS = b"[{"


class ProviderUnavailable(Exception):
    """Stripe could not be reached or refused the request; nothing was charged."""


class BadSignature(Exception):
    """A delivery not signed with our secret, too old, or not a Stripe event."""


@functools.lru_cache(maxsize=8)
def _client(
    api_key: str, api_base: str | None, retries: int, timeout: int
) -> "stripe.StripeClient":  # noqa: F821
    """A client per configuration, kept: it holds a pool of connections."""
    import stripe

    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def client() -> "stripe.StripeClient":  # noqa: F821
    """The Stripe client for this app's configuration."""
    config = current_app.config
    return _client(
        config["STRIPE_SECRET_KEY"],
        config["STRIPE_API_BASE"],
        config["STRIPE_MAX_NETWORK_RETRIES"],
        config["STRIPE_TIMEOUT"],
    )


def _call(create, params: dict, idempotency_key: str | None = None):
    """Make one create call; Stripe's failures become ProviderUnavailable."""
    import stripe

    options = {"idempotency_key": idempotency_key} if idempotency_key else {}
    try:
        return create(params=params, options=options)
    except stripe.StripeError as error:
        log.error("Stripe call failed: %s: %s", type(error).__name__, error)
        raise ProviderUnavailable from error


def create_checkout_session(params: dict, idempotency_key: str) -> str:
    """Create a Checkout Session; return the address to send the donor to."""
    session = _call(client().v1.checkout.sessions.create, params, idempotency_key)
    return session.url


def create_portal_session(customer_id: str, return_url: str) -> str:
    """Open Stripe's customer portal for one customer; return its address."""
    params = {"customer": customer_id, "return_url": return_url}
    return _call(client().v1.billing_portal.sessions.create, params).url


def verified_event(payload: bytes, signature: str | None) -> dict:
    """The event a webhook delivers, once its signature checks out, as a dict.

    The signature and its time are checked before the body is parsed at all;
    then the body must be one JSON object of sane depth.
    """
    import stripe

    config = current_app.config
    tolerance = config["STRIPE_WEBHOOK_TOLERANCE"]
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, config["STRIPE_WEBHOOK_SECRET"], tolerance
        )
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature from error
    # The library refuses only old signatures; a future one is refused too, so
    # a captured delivery signed ahead of time cannot be replayed later.
    if signed_at(signature) > time.time() + tolerance:
        raise BadSignature("signed in the future")
    found = json_object(payload)
    data = found.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (found.get("id") and found.get("type") and isinstance(obj, dict)):
        raise BadSignature("not a Stripe event")
    return found


def signed_at(header: str) -> int:
    """The time a verified ``Stripe-Signature`` header was signed (its ``t=``)."""
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            return int(value)
    raise BadSignature("no timestamp")


def json_object(payload: bytes) -> dict:
    """The body as one JSON object, refused when nested too deep to read safely."""
    if nesting(payload) > MAX_NESTING:
        raise BadSignature("nested too deep")
    try:
        found = json.loads(payload, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise BadSignature("not JSON") from error
    if not isinstance(found, dict):
        raise BadSignature("not a JSON object")
    return found


def nesting(payload: bytes) -> int:
    """How deep a JSON body's arrays and objects go (strings ignored), unparsed."""
    brackets = NOT_A_BRACKET.sub(b"", JSON_STRING.sub(b"", payload))
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in OPENERS else -1
        deepest = max(deepest, depth)
    return deepest


def _no_constant(name: str):
    """NaN and Infinity are not JSON, and no Stripe field holds them."""
    raise ValueError(f"{name} is not a JSON number")
