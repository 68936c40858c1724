"""URLs in a language: each locale's path prefix, and absolute URLs on BASE_URL."""

from urllib.parse import urlsplit

from babel import Locale
from flask import current_app
from flask_babel import get_locale

# Endpoints with one URL for every language: static files and story images
# are the same bytes in all of them, so nginx and browser caches see one copy.
UNPREFIXED = frozenset({"static", "images.rendition", "images.card"})


def prefix_of(locale: str, default: str) -> str:
    """The path segment that holds ``locale``'s pages (``fa`` for ``fa_AF``);
    empty for the default language, which stays where it always was."""
    return "" if locale == default else Locale.parse(locale).language


def language_prefix(locale=None) -> str:
    """``/fa``, ``/ps`` or ``""``: where ``locale``'s pages (default: the
    current locale's) live below the site's root. Unknown locales are English."""
    config = current_app.config
    locale = str(locale if locale is not None else get_locale())
    if locale not in config["LANGUAGES"]:
        return ""
    segment = prefix_of(locale, config["BABEL_DEFAULT_LOCALE"])
    return f"/{segment}" if segment else ""


def external_url(endpoint: str, _locale=None, **values) -> str:
    """An absolute URL on the configured BASE_URL, with or without a request,
    in ``_locale``'s pages (default: the current locale, so inside
    ``force_locale`` an email's links open in the recipient's language).

    Links in emails and canonical URLs never trust the request's Host header.
    """
    base = urlsplit(current_app.config["BASE_URL"])
    root = base.path.rstrip("/")
    if endpoint not in UNPREFIXED:
        root += language_prefix(_locale)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=root or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
