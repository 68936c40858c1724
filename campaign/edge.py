"""Request hygiene at the edge: control characters, file parts and body sizes.

Runs before every other request hook (CSRF reads the form too), so a request
that no page could use honestly is answered with a clear 4xx page before any
view, query or template sees it.
"""

import re

from flask import Flask, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from campaign.errors import render_error
from campaign.i18n.numbers import format_number

# C0 controls and DEL. PostgreSQL refuses NUL in text outright; the others have
# no business in a URL, a field name or a one-line value.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Form values may be textareas: keep tab, line feed and carriage return.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# RFC 9110: a header value may hold a tab, never another control character.
CONTROL_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Organiser pages post whole petition texts, stories and broadcasts.
ORGANISER_PREFIX = "/organiser/"
# Ids are INTEGER columns: a larger number in a URL names no row, and the
# databases refuse to compare with it (PostgreSQL: out of range).
MAX_ID = 2**31 - 1
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def accepts_files(*names: str):
    """Let a view take file parts in the fields ``names`` (every other field,
    and every other view, answers a file part with 400: a text field handed a
    file would reach the form's validators as an object, not text)."""

    def decorate(view):
        view.accepts_files = frozenset(names)
        return view

    return decorate


def validates_text(view):
    """Mark a view whose form checks every field for control characters itself.

    Its visitors then get the field's own message beside what they typed (on
    the petition, say) rather than the edge's error page; everything else at
    the edge (paths, queries, headers, field names, files) is still checked.
    """
    view.validates_text = True
    return view


def max_body(size):
    """Give a view its own body limit in bytes (Stripe's events, say), or a
    function returning it (read from config at request time)."""

    def decorate(view):
        view.max_body = size
        return view

    return decorate


def body_limit() -> int:
    """The largest body this request may send, in bytes."""
    config = current_app.config
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "max_body", None):
        return view.max_body() if callable(view.max_body) else view.max_body
    if request.path.startswith(ORGANISER_PREFIX):
        return config["ORGANISER_MAX_CONTENT_LENGTH"]
    return config["MAX_CONTENT_LENGTH"]


def has_control(pairs, pattern: re.Pattern) -> bool:
    """Whether any key (any control) or value (``pattern``) holds a control."""
    # A multipart part whose name broke its header comes back named None.
    return any(
        CONTROL.search(key or "") or pattern.search(value or "") for key, value in pairs
    )


def ids_in_range(view_args: dict | None) -> bool:
    """Whether every whole number in the URL fits an id column (no such row)."""
    return all(
        0 <= value <= MAX_ID
        for value in (view_args or {}).values()
        if isinstance(value, int)
    )


def check_request():
    """Set this request's body limit, then refuse what no page can take."""
    limit = body_limit()
    request.max_content_length = limit
    request.max_form_memory_size = limit  # one multipart field may be all of it
    return refusal()


def refusal():
    """The error page for this request, or None when it may go on."""
    if CONTROL.search(request.path) or not ids_in_range(request.view_args):
        return render_error(404)
    if has_control(request.args.items(multi=True), CONTROL):
        return render_error(400, _("The address holds characters it cannot hold."))
    if has_control(request.headers.items(), CONTROL_IN_HEADER):
        return render_error(400)
    if request.mimetype not in FORM_TYPES:
        return None  # a JSON body is its view's to read (and to limit)
    view = current_app.view_functions.get(request.endpoint)
    # Reading the form parses the body, within the limit set above.
    values = request.form.items(multi=True)
    if getattr(view, "validates_text", False):
        values = ((key, "") for key, _ in values)  # names still checked here
    if has_control(values, CONTROL_IN_TEXT):
        return render_error(
            400, _("Remove the invisible control characters and try again.")
        )
    if request.files:
        allowed = getattr(view, "accepts_files", frozenset())
        if not allowed.issuperset(request.files):
            return render_error(400, _("This form takes text only, not files."))
        names = [(key, part.filename or "") for key, part in request.files.items()]
        if has_control(names, CONTROL):
            return render_error(400, _("Rename the file and try again."))
    return None


def too_large(error: RequestEntityTooLarge):
    """A body over this page's limit: say what the limit is."""
    limit = request.max_content_length or body_limit()
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "accepts_files", False) and limit < 1_000_000:
        return render_error(
            413,
            _(
                "That file is larger than this page accepts (at most %(size)s KB). "
                "Choose a smaller file and try again.",
                size=format_number(limit / 1024, format="#,##0"),
            ),
        )
    if getattr(view, "accepts_files", False):
        size = format_number(max(1, round(limit / 1_000_000)))
        return render_error(
            413,
            _(
                "That file is larger than this page accepts (at most %(size)s MB). "
                "Choose a smaller file and try again.",
                size=size,
            ),
        )
    size = format_number(limit / 1024, format="#,##0")
    return render_error(
        413,
        _(
            "That was more than this page accepts (at most %(size)s KB). "
            "Shorten the text and try again.",
            size=size,
        ),
    )


def register(app: Flask) -> None:
    """Check every request first, and explain 413s with the limit."""
    # First of all hooks: CSRF and the rate limiter read the form too, and must
    # see it parsed within this request's limit and already checked.
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
    app.register_error_handler(RequestEntityTooLarge, too_large)
