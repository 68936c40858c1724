"""Locale selection and the template helpers that depend on it."""

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale

from campaign.config import localised
from campaign.forms import country_name, pristine_once
from campaign.urls import external_url


def select_locale() -> str:
    """The visitor's language: ``?lang=`` if offered, else their browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the worker: tasks use force_locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    return request.accept_languages.best_match(languages) or languages[0]


def text_direction() -> str:
    """``rtl`` or ``ltr`` for the selected locale (Dari and Pashto are rtl)."""
    locale = get_locale() or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])
    return locale.text_direction


def register(app: Flask) -> None:
    """Expose locale helpers and site settings to every template."""
    app.jinja_env.globals.update(
        get_locale=get_locale,
        text_direction=text_direction,
        country_name=country_name,
        pristine_once=pristine_once,
        external_url=external_url,
    )

    @app.context_processor
    def site_settings() -> dict:
        """Settings every page shows."""
        return {
            "site_name": localised("SITE_NAME"),
            "donate_banner": localised("DONATE_BANNER"),
        }
