"""Numbers, money and dates in the page's locale, in CLDR's own digits.

CLDR writes Dari and Pashto numbers in Extended Arabic-Indic digits (۱۲۳,
numbering system ``arabext``). Babel 2.19 picks a numbering system's symbols
with ``numbering_system="default"`` (٬ for grouping, ٫ for decimals) but
prints Latin digits, and its dates have no numbering system at all; so each
helper formats with Babel and then writes the digits of the locale's default
numbering system. Browsers do the same in ``toLocaleString("fa-AF")``.
"""

from babel import numbers
from flask_babel import format_date as babel_date
from flask_babel import format_datetime as babel_datetime
from flask_babel import format_time as babel_time
from flask_babel import get_locale

# The digits of CLDR's numeric numbering systems that our languages use.
DIGITS = {
    "latn": "0123456789",
    "arab": "٠١٢٣٤٥٦٧٨٩",
    "arabext": "۰۱۲۳۴۵۶۷۸۹",
}


def localise_digits(text: str, locale=None) -> str:
    """``text`` with Latin digits written in ``locale``'s default digits."""
    locale = locale or get_locale()
    digits = DIGITS.get(locale.default_numbering_system) if locale else None
    if digits is None or digits == DIGITS["latn"]:
        return text
    return text.translate(str.maketrans(DIGITS["latn"], digits))


def _number(babel_format, *args, **options) -> str:
    """``babel_format`` (a ``babel.numbers`` function) in the page's locale,
    with its numbering system's symbols and digits."""
    locale = get_locale()
    text = babel_format(*args, locale=locale, numbering_system="default", **options)
    return localise_digits(text, locale)


def format_number(number, format: str | None = None) -> str:
    """A number (``1٬234`` in Dari, ``1,234`` in English): the ``numberformat``
    filter."""
    return _number(numbers.format_decimal, number, format=format)


def format_currency(number, currency: str, format: str | None = None, **options):
    """An amount of money in the locale's pattern, symbols and digits."""
    return _number(numbers.format_currency, number, currency, format=format, **options)


def format_percent(number, format: str | None = None) -> str:
    """A fraction as a percentage (0.42: ``42%``)."""
    return _number(numbers.format_percent, number, format=format)


def format_date(value=None, format: str | None = None) -> str:
    """A date (the ``dateformat`` filter), in the user's timezone."""
    return localise_digits(babel_date(value, format))


def format_datetime(value=None, format: str | None = None) -> str:
    """A date and time (the ``datetimeformat`` filter)."""
    return localise_digits(babel_datetime(value, format))


def format_time(value=None, format: str | None = None) -> str:
    """A time of day (the ``timeformat`` filter)."""
    return localise_digits(babel_time(value, format))


# The Jinja filters Flask-Babel registers, replaced by the helpers above.
FILTERS = {
    "numberformat": format_number,
    "decimalformat": format_number,
    "currencyformat": format_currency,
    "percentformat": format_percent,
    "dateformat": format_date,
    "datetimeformat": format_datetime,
    "timeformat": format_time,
}
