"""Error pages: every failure a visitor can cause gets a clear 4xx page."""

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


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

    @app.errorhandler(HTTPException)
    def http_error(error):
        """Any HTTP error raised by routing, aborts or limits."""
        return render_error(error.code or 500)

    @app.errorhandler(500)
    def server_error(error):
        """An unexpected failure: a calm page, the details in the log."""
        return render_error(500)
