"""Signing in, for the views: rate-limit keys that count failures only, the
short-lived half-signed-in state between password and code, finishing."""

import time
from urllib.parse import urlsplit

from flask import Response, current_app, redirect, request, session, url_for
from flask_login import current_user, login_user

from campaign.extensions import limiter
from campaign.organiser import devices, services, sessions
from campaign.organiser.models import Organiser

# The password step's proof waits this long for the code, in the session
# cookie; it opens nothing but the code form (Flask-Login knows nobody yet).
PENDING = "pending_sign_in"
PENDING_SECONDS = 300


def rate_limit() -> str:
    """Failed attempts allowed per client address and per account."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def failed(response: Response) -> bool:
    """Only failures count: a wrong password or code answers 400."""
    return response.status_code == 400


def limit_failures(account_key, spare_device=None):
    """Limit failed attempts per client address and per account (``account_key``
    names the bucket); ``spare_device`` exempts a browser that signed into that
    account before from the account's limit, never from the address's."""

    def decorate(view):
        per_account = limiter.limit(
            rate_limit,
            methods=["POST"],
            key_func=account_key,
            deduct_when=failed,
            exempt_when=spare_device,
        )
        per_address = limiter.limit(rate_limit, methods=["POST"], deduct_when=failed)
        return per_address(per_account(view))

    return decorate


def submitted_email() -> str:
    """The account a password attempt is for: its own rate-limit bucket."""
    return "login:" + request.form.get("email", "").strip().lower()


def device_knows_submitted() -> bool:
    """This browser signed into the submitted account before: no account limit."""
    return devices.is_known(request.form.get("email", ""))


def pending_account() -> str:
    """The account a code attempt is for: its own rate-limit bucket."""
    state = session.get(PENDING) or {}
    return f"login-code:{state.get('id', 'none')}"


def device_knows_pending() -> bool:
    """This browser signed into the half-signed-in account before."""
    return devices.is_known((session.get(PENDING) or {}).get("email", ""))


def organiser_path(target: str | None) -> str | None:
    """``target`` if it is a path inside the organiser area, else None.

    Paths are below any language prefix (``request.full_path``), so the same
    ``next`` works in every language.
    """
    if target and not urlsplit(target).netloc and target.startswith("/organiser/"):
        return target
    return None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a page of the organiser area, in the
    language (URL prefix) the sign-in happened in."""
    path = organiser_path(target)
    if path is None:
        return url_for("petition_organiser.dashboard")
    return request.script_root + path


def _leave_current_session() -> None:
    """Signing in afresh in a signed-in browser ends the session it had."""
    sessions.end_session(getattr(current_user, "session_token", None))
    session.clear()  # nothing from before sign-in carries over


def start_pending(organiser: Organiser, next_url: str | None) -> None:
    """The password was right; the code comes next (a fresh session cookie)."""
    _leave_current_session()
    session[PENDING] = {
        "id": organiser.id,
        "email": organiser.email,
        "at": time.time(),
        "next": organiser_path(next_url),
    }


def pending_organiser() -> Organiser | None:
    """The active account whose password was just given, if still recent."""
    state = session.get(PENDING)
    if (
        not isinstance(state, dict)
        or time.time() - state.get("at", 0) > PENDING_SECONDS
    ):
        session.pop(PENDING, None)
        return None
    organiser = services.get_organiser(state.get("id"))
    return organiser if organiser is not None and organiser.active else None


def finish(organiser: Organiser, next_url: str | None) -> Response:
    """Sign the browser in: a new server-side session and a device cookie."""
    _leave_current_session()
    sessions.start_session(organiser)
    login_user(organiser)
    response = redirect(safe_next(next_url))
    devices.remember(response, organiser.email)
    return response
