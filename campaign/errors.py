"""Error pages: every failure a visitor can cause gets a clear 4xx page, and
an unreachable database a 503 that tells them to come back, never a 500."""

import contextlib
import logging
import sqlite3
import sys

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from campaign.extensions import db

log = logging.getLogger(__name__)


def messages() -> dict[int, str]:
    """What to tell the visitor for each status, in their language."""
    return {
        400: _("Something in that request wasn't right. Go back and try again."),
        403: _("You don't have access to this page."),
        404: _("We couldn't find that page."),
        405: _("That action isn't available here."),
        410: _("That link has expired."),
        413: _("That was more than this page accepts. Shorten it and try again."),
        429: _("Too many attempts from your connection. Wait a minute and try again."),
        500: _("Something went wrong on our side. Please try again later."),
    }


def render_error(code: int, message: str | None = None):
    """An error page (or JSON for JSON endpoints) with the right status."""
    message = message or messages().get(code, messages()[400])
    if request.path.endswith(".json"):
        return {"error": message}, code
    return render_template("errors/error.html", code=code, message=message), code


def register(app: Flask) -> None:
    """Attach the error handlers."""
    register_outage_handlers(app)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        """A form that expired or came from elsewhere."""
        return render_error(
            400,
            _(
                "This form expired or was sent from another site. "
                "Reload the page and try again."
            ),
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error):
        """A limit passed: 429, its own words if it has them, and at most
        the limit's window to wait."""
        body, code = render_error(
            429, error.description if error.limit.error_message else None
        )
        return body, code, {"Retry-After": str(error.limit.limit.get_expiry())}

    @app.errorhandler(HTTPException)
    def http_error(error):
        """Any HTTP error raised by routing, aborts or limits."""
        return render_error(error.code or 500)

    @app.errorhandler(500)
    def server_error(error):
        """An unexpected failure: a calm page, the details in the log."""
        return render_error(500)


# The database is down or busy: 503 with Retry-After, in the visitor's language.

# SQLite's words for a database that is there but cannot be used right now
# (another process holds the lock past the busy timeout, a full or lost disk),
# as opposed to a bug such as "no such table".
SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "disk is full")


def register_outage_handlers(app: Flask) -> None:
    """Answer 503 instead of 500 for every error that means "database down"."""
    errors = [sa.exc.DBAPIError, sa.exc.TimeoutError, sqlite3.OperationalError]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Raw driver errors escape where the code reads libpq directly (COPY).
        import psycopg

        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    for error in errors:
        app.register_error_handler(error, database_error)


def database_error(error: Exception):
    """A 503 page if the database is unreachable or busy; any other error goes on."""
    if not database_unavailable(error):
        raise error  # a bug (a constraint, bad SQL): Flask's 500 path logs it
    log.warning("Database unavailable, answering 503: %s", error)
    discard_session()
    return render_unavailable()


def database_unavailable(error: BaseException) -> bool:
    """Whether a database error means "down or busy" rather than a bad query."""
    if isinstance(error, sa.exc.TimeoutError):  # no pooled connection came free
        return True
    original = error
    if isinstance(error, sa.exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
    if isinstance(original, sqlite3.Error):
        return isinstance(original, sqlite3.OperationalError) and any(
            words in str(original).lower() for words in SQLITE_UNAVAILABLE
        )
    if isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError):
        return True  # PostgreSQL: connection lost or refused, shutdown, deadlock
    # Only loaded if the app talks to PostgreSQL; else no such error can occur.
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(
        original, psycopg.OperationalError | psycopg.InterfaceError
    )


def discard_session() -> None:
    """Drop the request's failed transaction and its connection.

    SQLAlchemy has already invalidated the pool if the connection died, so
    the next request connects afresh and works as soon as the database is back.
    """
    # If the connection is gone, rollback fails too; remove() discards it.
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    db.session.remove()


def wants_json() -> bool:
    """Whether the caller is a program: a .json path, a JSON body, or it asks."""
    if request.path.endswith(".json") or request.is_json:
        return True
    offered = ["text/html", "application/json"]
    return request.accept_mimetypes.best_match(offered) == "application/json"


def render_unavailable():
    """The 503 answer: a plain page (or JSON) that needs no database."""
    message = _(
        "We can't take requests for a moment. Please try again in a minute; "
        "if you were signing or joining, sending the form again is safe."
    )
    headers = {
        "Retry-After": str(current_app.config["UNAVAILABLE_RETRY_AFTER"]),
        "Cache-Control": "no-store",
    }
    if wants_json():
        return {"error": message}, 503, headers
    page = render_template("errors/error.html", code=503, message=message)
    return page, 503, headers
