"""Abuse defence for signing and joining: per-client limits, the proof of
work (ALTCHA) that lets a shared address past them, and used solutions.

Many supporters at risk share an address (a VPN, a Tor exit), so passing a
limit is not a refusal: the form comes back with a challenge the browser
solves in a second or two (``ALTCHA_MAX_NUMBER`` SHA-256 hashes at most),
and a request carrying a good, unused solution goes through. Without
JavaScript nothing solves it, so the limit holds (429, "try later").

``gate`` decides (the README's "Abuse defence" gives the rule):

- under the limit: OPEN;
- over it, with a good solution never used before: OPEN, unless the address
  is past the hard limit too, where even solved requests look like a bot
  that pays for its work: SUSPECT;
- over it, with no solution, an expired or an already used one: CHALLENGE
  (a real person may be behind any of these: ask again, store nothing);
- over it, with a solution that fails verification (forged): SUSPECT.

What SUSPECT means is the caller's: a signature is kept as fraudulent (not
counted, organisers can restore it) or refused, a sign-up refused.

Requests are counted per client key (campaign/privacy/client_keys.py): an
IPv4 address or an IPv6 /64, as a keyed hash, so the storage never holds a
raw address. Counts and used solutions live in the rate limiter's storage
(Redis in production); while it is unreachable this process's memory stands
in, and it is tried again every few seconds: never a 500, and a replay
within one process is still refused.
"""

import enum
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass

import altcha
from flask import Flask, current_app, request
from flask_babel import gettext as _
from limits import parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from campaign.extensions import limiter

log = logging.getLogger(__name__)

# The form field the widget puts its payload in (the widget's default).
FIELD = "altcha"
# Seconds a challenge may be solved and sent in: enough to fill the form in.
CHALLENGE_SECONDS = 20 * 60
# Each attempt is one SHA-256 of the nonce and a counter (cheap to verify).
ALGORITHM = "SHA-256"
# Seconds between attempts to reach the shared storage again once it failed.
RETRY_SHARED = 5.0
EXTENSION = "campaign.abuse"
UNREACHABLE = (RedisError, StorageError, OSError)


class Gate(enum.Enum):
    """What to do with a request after the limits and its solution."""

    OPEN = "open"
    CHALLENGE = "challenge"
    SUSPECT = "suspect"


class Outcome(enum.Enum):
    """What a submitted solution turned out to be."""

    GOOD = "good"
    MISSING = "missing"
    EXPIRED = "expired"
    USED = "used"
    FORGED = "forged"


@dataclass
class Storage:
    """The limiter's shared storage, and this process's memory while it is down."""

    local: MemoryStorage
    shared_again_at: float = 0.0

    def run(self, action):
        """``action(storage)`` on the shared storage, or the local one without it."""
        if time.monotonic() >= self.shared_again_at:
            try:
                return action(limiter.storage)
            except UNREACHABLE as error:
                log.warning("Abuse storage unreachable (%s); counting locally.", error)
                self.shared_again_at = time.monotonic() + RETRY_SHARED
        return action(self.local)


def _storage() -> Storage:
    """This app's storage wrapper, made on first use."""
    return current_app.extensions.setdefault(EXTENSION, Storage(MemoryStorage()))


def hmac_key() -> str:
    """The challenges' secret: ALTCHA_HMAC_KEY, else one derived from
    CLIENT_KEY_SECRET (so no new secret is needed, and none is reused)."""
    config = current_app.config
    if config.get("ALTCHA_HMAC_KEY"):
        return config["ALTCHA_HMAC_KEY"]
    secret = config["CLIENT_KEY_SECRET"].encode()
    return hmac.new(secret, b"altcha-challenge", hashlib.sha256).hexdigest()


def new_challenge() -> dict:
    """A signed challenge for the widget: it must find the counter (at most
    ALTCHA_MAX_NUMBER) whose hash starts with the signed prefix."""
    work = current_app.config["ALTCHA_MAX_NUMBER"]
    challenge = altcha.create_challenge(
        ALGORITHM,
        1,
        counter=secrets.randbelow(work + 1),
        expires_at=int(time.time()) + CHALLENGE_SECONDS,
        hmac_secret=hmac_key(),
    )
    return challenge.to_dict()


def challenge_json() -> str:
    """A new challenge as the widget's ``challenge`` attribute takes it."""
    return json.dumps(new_challenge(), separators=(",", ":"))


def check_solution(payload: str | None) -> Outcome:
    """Verify a widget's payload and use it up: each solution works once."""
    if not payload:
        return Outcome.MISSING
    result = altcha.verify_solution(payload, hmac_key())
    if result.expired:
        return Outcome.EXPIRED
    if not result.verified:
        return Outcome.FORGED
    # Verified, so the payload parses and its signature is ours.
    signature = altcha.Payload.from_base64(payload).challenge.signature
    if not _first_use(signature):
        return Outcome.USED
    return Outcome.GOOD


def _first_use(signature: str) -> bool:
    """Record a solved challenge's signature until it expires; whether it is new."""
    key = f"altcha-used/{signature}"
    expiry = CHALLENGE_SECONDS + 60
    return _storage().run(lambda storage: storage.incr(key, expiry)) == 1


def _over(scope: str, limits: str, client: str) -> bool:
    """Count a request from ``client`` against ``limits``; whether it passed
    any of them."""
    items = parse_many(limits)

    def hit(storage) -> bool:
        strategy = FixedWindowRateLimiter(storage)
        # Every limit counts the request, even once one has refused it.
        return not all([strategy.hit(item, scope, client) for item in items])

    return _storage().run(hit)


def gate(scope: str, limit: str, hard_limit: str, client: str | None) -> Gate:
    """Count a request from ``client`` (its client key) against its scope's
    limits and weigh its solution."""
    # Counted by client key, not by raw address: an IPv6 client holds its
    # whole /64 and could rotate through it, and the storage keeps its keys
    # for up to an hour. The key changes every CLIENT_KEY_HOURS, which starts
    # the counts afresh no more often than that.
    client = client or "unknown"
    over = _over(scope, limit, client)
    past_hard = _over(f"{scope}-hard", hard_limit, client)
    if not over:
        return Gate.OPEN
    outcome = check_solution(request.form.get(FIELD))
    if outcome is Outcome.FORGED:
        return Gate.SUSPECT
    if outcome is not Outcome.GOOD:
        return Gate.CHALLENGE
    return Gate.SUSPECT if past_hard else Gate.OPEN


def widget_strings() -> dict[str, str]:
    """The widget's own words in the page's language (the rest stay English)."""
    return {
        "label": _("I am not a robot"),
        "verifying": _("Calculating…"),
        "waitAlert": _("Calculating… please wait."),
        "verified": _("Done: you can send the form."),
        "verificationRequired": _("Wait for the calculation to finish first."),
        "error": _("The calculation failed. Try again later."),
        "expired": _("The calculation expired. Start it again."),
    }


def register(app: Flask) -> None:
    """Give templates the widget's words."""
    app.jinja_env.globals["altcha_strings"] = widget_strings
