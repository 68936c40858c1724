"""Language path prefixes: ``/fa/…`` and ``/ps/…`` moved into SCRIPT_NAME.

Home-made rather than a library: no well-kept Flask extension serves locales
under URL prefixes (Flask-Babel selects, it does not route), and adding a
``<lang>`` converter to every route would touch every blueprint and every
``url_for``. Moving the prefix from PATH_INFO to SCRIPT_NAME instead makes
each language look like the same app mounted at ``/fa``: routes match as
before, and ``url_for`` (links, form actions, redirects) stays inside the
language by itself. Only static files keep one URL for all languages.
"""

import copy

from flask import Flask, has_request_context, request
from flask.globals import request_ctx

from campaign.urls import UNPREFIXED, prefix_of

# What the middleware records in the WSGI environ.
LOCALE_KEY = "campaign.locale"  # the locale a prefix named (absent: default)
ROOT_KEY = "campaign.root"  # SCRIPT_NAME before the language prefix


class LanguagePrefix:
    """WSGI middleware: a known first path segment names the page's language."""

    def __init__(self, wsgi_app, languages: list[str], default: str):
        """Wrap ``wsgi_app``; ``languages`` other than ``default`` get a prefix."""
        self.wsgi_app = wsgi_app
        self.locales = {
            prefix_of(locale, default): locale
            for locale in languages
            if locale != default
        }

    def __call__(self, environ, start_response):
        """Strip ``/<prefix>`` from PATH_INFO onto SCRIPT_NAME; note the locale."""
        root = environ.get("SCRIPT_NAME", "")
        environ[ROOT_KEY] = root
        segment, _, rest = environ.get("PATH_INFO", "")[1:].partition("/")
        locale = self.locales.get(segment)
        # /fa/static/… is not a URL we hand out: static files have one URL.
        if locale and not rest.startswith("static/"):
            environ["SCRIPT_NAME"] = f"{root}/{segment}"
            environ["PATH_INFO"] = f"/{rest}"
            environ[LOCALE_KEY] = locale
        return self.wsgi_app(environ, start_response)


def site_root() -> str:
    """SCRIPT_NAME below any language prefix ("" when the site is at /)."""
    return request.environ.get(ROOT_KEY, request.script_root).rstrip("/")


def prefixed_locale() -> str | None:
    """The locale this request's URL prefix names, None for unprefixed URLs."""
    return request.environ.get(LOCALE_KEY)


class App(Flask):
    """Flask whose static URLs stay unprefixed on a language's pages."""

    def url_for(self, /, endpoint: str, **values) -> str:
        """``url_for``, building UNPREFIXED endpoints at the site's own root."""
        if endpoint not in UNPREFIXED or not has_request_context():
            return super().url_for(endpoint, **values)
        if prefixed_locale() is None:
            return super().url_for(endpoint, **values)
        context = request_ctx._get_current_object()
        prefixed = context.url_adapter
        unprefixed = copy.copy(prefixed)
        unprefixed.script_name = site_root() + "/"
        context.url_adapter = unprefixed
        try:
            return super().url_for(endpoint, **values)
        finally:
            context.url_adapter = prefixed
