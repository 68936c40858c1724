"""HTTP caching of public pages: Cache-Control, Vary and ETag for visitors
without a session, so a reverse proxy or CDN can serve one copy to everyone."""

import secrets
from functools import wraps

from flask import Flask, current_app, make_response, request, session

from campaign.extensions import cache, compress

# Bumped whenever what public pages show changes (an edit, the count, the
# latest signers): every remembered page is then stale at once.
GENERATION = "public-pages/generation"
# The attribute ``public_page`` sets on a view: its page exists for everyone,
# in every language (so it also gets hreflang alternates).
PUBLIC = "public_page"


def public_page(view=None, *, remember: bool = True):
    """Let shared caches keep ``view``'s 200 answers (see ``cache_headers``).

    With ``remember``, a page rendered for a visitor without a session is also
    kept in the app's cache for COUNT_CACHE_SECONDS (per URL, which names the
    language: ``/fa/…``), so
    a viral moment renders it once per process every few seconds, not once
    per visitor; the staleness is the count cache's own, and ``pages_changed``
    drops every copy. ``remember=False`` is for pages that differ per view
    (the donate form's idempotency key).
    """

    def decorate(view):
        @wraps(view)
        def marked(*args, **kwargs):
            key = _page_key() if remember and request.method == "GET" else None
            if key and (kept := cache.get(key)) is not None:
                body, status, headers = kept
                response = current_app.response_class(body, status, headers)
            else:
                response = make_response(view(*args, **kwargs))
                if key and _keepable(response):
                    seconds = current_app.config["COUNT_CACHE_SECONDS"]
                    value = (response.get_data(), 200, list(response.headers))
                    cache.set(key, value, timeout=seconds)
            response.public_page = response.status_code == 200
            return response

        setattr(marked, PUBLIC, True)
        return marked

    return decorate(view) if view is not None else decorate


def _page_key() -> str | None:
    """The cache key of this page for visitors without a session (else None)."""
    # Only the page's own URL: a copy per made-up query string would let
    # anyone fill the cache with copies of the page.
    if session or request.args:
        return None
    generation = cache.get(GENERATION) or 0
    # script_root holds the language prefix (/fa): the path alone is the same
    # in every language, and an English copy must never answer at /fa/.
    return f"public-page/{generation}/{request.script_root}{request.path}"


def is_public(view) -> bool:
    """Whether ``view`` was marked ``public_page``."""
    return getattr(view, PUBLIC, False)


def _keepable(response) -> bool:
    """A whole 200 page that set nothing in the visitor's session."""
    return response.status_code == 200 and not response.is_streamed and not session


def pages_changed() -> None:
    """What public pages show has changed: no remembered copy is served again."""
    cache.set(GENERATION, secrets.token_hex(8), timeout=0)


def max_staleness() -> int:
    """Seconds old a cached public page may be when a visitor sees it."""
    config = current_app.config
    return config["PUBLIC_MAX_AGE"] + config["PUBLIC_STALE_WHILE_REVALIDATE"]


def _public(response):
    """Cacheable by anyone for PUBLIC_MAX_AGE, stale a while during a refresh."""
    config = current_app.config
    cache_control = response.cache_control
    cache_control.public = True
    cache_control.max_age = config["PUBLIC_MAX_AGE"]
    cache_control.stale_while_revalidate = config["PUBLIC_STALE_WHILE_REVALIDATE"]
    # Cookie: a visitor with a session (an organiser, a flash message) gets
    # a private page, never the shared copy; and at the front door a chosen
    # language (campaign/i18n/views.py). Not Accept-Language: the URL names
    # the language (/fa/…), so one URL is one page for everyone.
    response.vary.add("Cookie")
    # The body holds the content and the count, so its hash changes exactly
    # when an organiser edits or the count moves; compression then suffixes
    # the tag per encoding and answers If-None-Match itself.
    response.add_etag()
    response.make_conditional(request)
    return compress.after_request(response)


def _private(response) -> None:
    """A page for one visitor: no cache may keep it."""
    response.cache_control.public = False
    response.cache_control.max_age = None
    response.cache_control.private = True
    response.cache_control.no_store = True
    response.vary.add("Cookie")


def register(app: Flask) -> None:
    """Add the cache headers to the answers of views marked ``public_page``."""

    @app.after_request
    def cache_headers(response):
        """Public for visitors without a session; private, no-store otherwise."""
        if not getattr(response, "public_page", False):
            return response
        # Anything in the session (Flask-Login's user, a flash message, the
        # supporter a confirmed signature remembers) makes the page personal.
        if session:
            _private(response)
            return response
        return _public(response)
