"""Choosing a language: the switcher's endpoint, the remembered choice at the
front door, and old ``?lang=`` links sent to the language's own URL.

A URL is its language, so a shared link opens in the language it was shared
in; the ``lang`` cookie (set only by the switcher, nothing personal in it)
is read at the bare front door ``/`` and nowhere else, so every other page
stays one cacheable copy per URL.
"""

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, redirect, request

from campaign.i18n.prefixes import prefixed_locale, site_root
from campaign.urls import language_prefix

bp = Blueprint("i18n", __name__)

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
GET = ("GET", "HEAD")


def known_locale(code: str | None) -> str | None:
    """The offered locale ``code`` names (``fa_AF``, ``fa-AF`` or ``fa``), if any."""
    if not code:
        return None
    wanted = code.replace("-", "_").lower()
    for locale in current_app.config["LANGUAGES"]:
        if wanted in (locale.lower(), language_prefix(locale).lstrip("/")):
            return locale
    return None


def local_path(target: str | None) -> str:
    """``target`` if it is a path on this site (not ``//host``, not a URL), else
    ``/``; a language prefix it starts with is dropped."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or urlsplit(target).netloc
    ):
        return "/"
    segment, _, rest = target[1:].partition("/")
    prefixes = {language_prefix(locale) for locale in current_app.config["LANGUAGES"]}
    return f"/{rest}" if f"/{segment}" in prefixes - {""} else target


def page_in(locale: str, path: str) -> str:
    """The URL of the page at (unprefixed) ``path`` in ``locale``."""
    return site_root() + language_prefix(locale) + path


def _private(response):
    """A redirect made for one visitor: no cache keeps it."""
    response.cache_control.private = True
    response.cache_control.no_store = True
    response.vary.add("Cookie")
    return response


@bp.get("/language/<code>")
def choose(code: str):
    """Remember the visitor's language and open the same page in it."""
    locale = known_locale(code)
    if locale is None or locale != code:
        abort(404)
    response = redirect(page_in(locale, local_path(request.args.get("next"))), 303)
    response.set_cookie(
        COOKIE,
        locale,
        max_age=COOKIE_MAX_AGE,
        path="/",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )
    return _private(response)


def old_language_links():
    """``?lang=fa_AF`` (the old links): 301 to the same page under ``/fa/``."""
    if "lang" not in request.args or request.method not in GET:
        return None
    locale = known_locale(request.args["lang"]) or str(
        prefixed_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    query = f"?{urlencode(rest)}" if rest else ""
    return redirect(page_in(locale, request.path) + query, 301)


def front_door():
    """A visitor who chose a language and opens ``/`` is sent to it (302)."""
    if request.path != "/" or prefixed_locale() or request.method not in GET:
        return None
    chosen = known_locale(request.cookies.get(COOKIE))
    if chosen is None or chosen != request.cookies.get(COOKIE):
        return None
    if chosen == current_app.config["BABEL_DEFAULT_LOCALE"]:
        return None
    return _private(redirect(page_in(chosen, "/"), 302))
