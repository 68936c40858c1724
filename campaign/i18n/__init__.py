"""Languages: the locale each URL names, and the template helpers that depend
on it (direction, switcher, hreflang alternates, numbers and dates).

``prefixes`` routes ``/fa/…`` and ``/ps/…``, ``views`` remembers a choice,
``numbers`` formats in CLDR's digits.
"""

from babel import Locale
from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale

from campaign.config import site_text
from campaign.http_cache import is_public
from campaign.i18n import numbers, views
from campaign.i18n.prefixes import App, LanguagePrefix, prefixed_locale
from campaign.urls import external_url

__all__ = ["App", "register", "select_locale"]

# How each language names itself in the switcher. CLDR calls fa_AF "فارسی";
# in Afghanistan the language and its speakers call it Dari.
OWN_NAMES = {"en": "English", "fa_AF": "دری", "ps": "پښتو"}


def select_locale() -> str:
    """The page's language: the one its URL prefix names, else the default."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # the worker: tasks use force_locale
        return default
    return prefixed_locale() or default


def text_direction() -> str:
    """``rtl`` or ``ltr`` for the selected locale (Dari and Pashto are rtl)."""
    locale = get_locale() or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])
    return locale.text_direction


def language_tag(locale=None) -> str:
    """The BCP 47 tag of ``locale`` (default: the current one), ``fa-AF``."""
    return str(locale or get_locale()).replace("_", "-")


def own_name(locale: str) -> str:
    """A language's name in that language (``دری``, ``پښتو``)."""
    parsed = Locale.parse(locale)
    return OWN_NAMES.get(locale) or parsed.get_language_name(parsed).capitalize()


def _this_page() -> str:
    """This page's path and query below any language prefix, for the switcher;
    the front page when this URL cannot be opened with a GET (a form's POST)."""
    rule = request.url_rule
    if rule is None or "GET" not in (rule.methods or ()):
        return "/"
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def language_choices() -> list[dict]:
    """The switcher's links: this page in each language, labelled in its own."""
    current = str(get_locale())
    here = _this_page()
    return [
        {
            "locale": locale,
            "tag": language_tag(locale),
            "name": own_name(locale),
            "dir": Locale.parse(locale).text_direction,
            "href": url_for("i18n.choose", code=locale, next=here),
            "current": locale == current,
        }
        for locale in current_app.config["LANGUAGES"]
    ]


def language_alternates() -> list[tuple[str, str]]:
    """``(hreflang, absolute URL)`` of this public page in every language and
    ``x-default`` (English); none for organiser and token pages."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not is_public(view) or request.view_args is None:
        return []
    endpoint, args = request.endpoint, request.view_args
    languages = current_app.config["LANGUAGES"]
    links = [
        (language_tag(locale), external_url(endpoint, _locale=locale, **args))
        for locale in languages
    ]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    links.append(("x-default", external_url(endpoint, _locale=default, **args)))
    return links


def register(app: Flask) -> None:
    """Route language prefixes, and expose locale helpers to every template."""
    config = app.config
    app.wsgi_app = LanguagePrefix(
        app.wsgi_app, config["LANGUAGES"], config["BABEL_DEFAULT_LOCALE"]
    )
    app.register_blueprint(views.bp)
    app.before_request(views.old_language_links)
    app.before_request(views.front_door)
    app.jinja_env.filters.update(numbers.FILTERS)
    app.jinja_env.globals.update(
        get_locale=get_locale,
        text_direction=text_direction,
        language_tag=language_tag,
        language_choices=language_choices,
        language_alternates=language_alternates,
        external_url=external_url,
    )

    @app.context_processor
    def site_settings() -> dict:
        """Settings every page shows."""
        return {
            "site_name": site_text("SITE_NAME"),
            "donate_banner": site_text("DONATE_BANNER"),
        }
