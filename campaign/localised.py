"""Content in each language: which version a page shows, and its way back.

The English story, petition and broadcast rows are the originals, word for
word as published; other languages are translations of them, each in its own
row. A page shows the translation for its locale when there is one, else the
English original (marked ``lang="en"``), and a translation links back to it.
"""

from collections.abc import Iterator
from pathlib import Path

from babel import Locale
from flask import Flask, current_app
from flask_babel import get_locale
from markupsafe import Markup

from campaign.i18n import language_tag
from campaign.i18n.prefixes import site_root

ORIGINAL = "en"  # the language content is written in first
# How English content in a page in another language says it is English.
ENGLISH_ATTRIBUTES = Markup(' lang="en" dir="ltr"')


def page_locale() -> str:
    """The selected locale as a string ("en", "fa_AF", "ps")."""
    locale = get_locale()
    return str(locale) if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def original_url(endpoint: str, **values) -> str:
    """The English page of the same content (where a translation links to):
    the path at the site's root, below no language prefix."""
    adapter = current_app.url_map.bind("", script_name=site_root() or "/")
    return adapter.build(endpoint, values)


def original_lang(content_locale: str) -> Markup:
    """``lang``/``dir`` for English content shown in a page in another language."""
    if content_locale == page_locale():
        return Markup("")
    return ENGLISH_ATTRIBUTES


def language_name(code: str, in_locale: str | None = None) -> str:
    """What ``code`` is called in ``in_locale`` (the page's): "Dari", "دری"."""
    where = Locale.parse(in_locale or page_locale())
    return where.languages.get(code) or Locale.parse(code).get_display_name(where)


def lang_and_dir(code: str) -> dict[str, str]:
    """The HTML ``lang`` and ``dir`` of text in ``code`` ("fa_AF": fa-AF, rtl)."""
    return {
        "lang": language_tag(code),
        "dir": Locale.parse(code).text_direction,
    }


def other_languages() -> list[str]:
    """The site's languages besides English, which content may be translated to."""
    return [code for code in current_app.config["LANGUAGES"] if code != ORIGINAL]


def translation_files(content_dir: Path, name: str) -> Iterator[tuple[str, str]]:
    """``(locale, file name)`` of each ``<name>.<locale>.md`` in the content."""
    for path in sorted(content_dir.glob(f"{name}.*.md")):
        yield path.name.removeprefix(f"{name}.").removesuffix(".md"), path.name


def register(app: Flask) -> None:
    """Give templates the link to the original, the fallback's ``lang``, and
    each language's name and ``lang``/``dir`` (side-by-side editing)."""
    app.jinja_env.globals.update(
        original_url=original_url,
        original_lang=original_lang,
        language_name=language_name,
        lang_and_dir=lang_and_dir,
    )
