"""Field validators and choices shared by every feature's forms."""

import re
from functools import lru_cache

import pycountry
from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask import request
from flask_babel import get_locale, gettext, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from markupsafe import Markup
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.fields.choices import Choice
from wtforms.form import BaseForm
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError
from wtforms.widgets import Select, html_params

from campaign.fragments import kept, kept_already, macro_code
from campaign.i18n.numbers import format_number
from campaign.text import visible

# Control characters (NUL above all: PostgreSQL refuses it in text); a comment
# may keep its line breaks and tabs.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
URL_LIKE = re.compile(r"://|www\.|[a-z0-9-]+\.[a-z]{2,}/", re.IGNORECASE)
FORMULA_START = ("=", "+", "-", "@")
COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)


# What a date field says when it cannot read the date (wtforms' own words have
# no Pashto).
BAD_DATE = _l("Enter a date like 2026-11-30.")
# What a choice says when it gets a value it did not offer.
BAD_CHOICE = _l("Choose one of the options.")


def lazy_number(number: int) -> LazyString:
    """A number written in the reader's locale when a lazy message is shown."""
    return LazyString(format_number, number)


def at_most(limit: int) -> Length:
    """A length limit that says, in the reader's language, what it allows."""
    return Length(
        max=limit,
        message=lazy_ngettext(
            "Use at most %(count)s character.",
            "Use at most %(count)s characters.",
            limit,
            count=lazy_number(limit),
        ),
    )


def valid_email(form, field) -> None:
    """Check the address's syntax (no DNS lookup) and keep its normal form."""
    try:
        result = validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(
            _l("Enter an email address like name@example.org.")
        ) from error
    field.data = result.normalized


def plain_name(form, field) -> None:
    """Refuse names that hold links or start like a spreadsheet formula."""
    value = field.data or ""
    if CONTROL.search(value):
        raise ValidationError(_l("Your name can't contain control characters."))
    if value.startswith(FORMULA_START):
        raise ValidationError(_l("Your name can't start with = + - or @."))
    if URL_LIKE.search(value):
        raise ValidationError(_l("Your name can't contain a web address."))


def plain_text(form, field) -> None:
    """Refuse invisible control characters in free text."""
    if CONTROL_BUT_LINES.search(field.data or ""):
        raise ValidationError(_l("Remove the invisible control characters."))


def strip(value):
    """Trim surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value


def upper(value):
    """Filter: capitals (a country code typed in lower case)."""
    return value.upper() if isinstance(value, str) else value


def country_code_field(label) -> StringField:
    """An optional two-letter country code (ISO 3166), typed by an organiser."""
    return StringField(
        label,
        filters=[strip, upper],
        validators=[
            Optional(),
            AnyOf(COUNTRY_CODES, message=_l("Use a two-letter country code.")),
        ],
        render_kw={"maxlength": 2, "size": 3},
    )


def without_invisible(value):
    """Drop bidi controls and stray zero-width characters (see text.visible)."""
    return visible(value) if isinstance(value, str) else value


# Filters for people's names and comments, in order: invisible characters go
# first, so whitespace they hid is trimmed too.
PERSON_TEXT = [without_invisible, strip]


@lru_cache(maxsize=16)
def _countries_for(locale_name: str) -> tuple[tuple[str, str], ...]:
    """ISO 3166 countries with their names in one locale, sorted by name."""
    names = Locale.parse(locale_name).territories
    pairs = [
        (code, names.get(code, pycountry.countries.get(alpha_2=code).name))
        for code in COUNTRY_CODES
    ]
    return tuple(sorted(pairs, key=lambda pair: pair[1]))


def country_choices() -> list[SelectChoice]:
    """Select options for countries, named in the visitor's language."""
    return _choices_for(str(get_locale()))


@lru_cache(maxsize=16)
def _choices_for(locale_name: str) -> list[SelectChoice]:
    """The options list for one locale, built once (the form is on a hot path)."""
    pairs = [("", gettext("Choose your country")), *_countries_for(locale_name)]
    return [SelectChoice(code, name) for code, name in pairs]


@lru_cache(maxsize=16)
def _options_for(locale_name: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The country options' HTML for one locale, and each option unselected and
    selected: rendered once, since 250 options cost far more than the page."""
    options, each = [], {}
    for choice in _choices_for(locale_name):
        code, label, render_kw = choice.value, choice.label, choice.render_kw
        plain = Select.render_option(Choice(code, label, False, render_kw))
        chosen = Select.render_option(Choice(code, label, True, render_kw))
        options.append(plain)
        each[choice.value] = (str(plain), str(chosen))
    return "".join(options), each


class CountrySelect(Select):
    """WTForms' <select>, with the country options taken from _options_for."""

    def __call__(self, field, **kwargs) -> Markup:
        """The same HTML as Select renders, the chosen option marked cheaply."""
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if flag not in kwargs and getattr(field.flags, flag, False):
                kwargs[flag] = getattr(field.flags, flag)
        options, each = _options_for(str(get_locale()))
        # Only a listed value is marked: anything else someone posted matches
        # no option, exactly as with WTForms' own rendering.
        if field.data in each:
            options = options.replace(*each[field.data], 1)
        params = html_params(name=field.name, **kwargs)
        # Escaped already: labels by render_option, attributes by html_params.
        return Markup(f"<select {params}>{options}</select>")  # noqa: S704


def _is_pristine(field) -> bool:
    """Whether ``field`` is as its form class declares it: no submitted value,
    no data given, no error (and its form takes part in pristine rendering)."""
    return (
        getattr(field.meta, "pristine_once", False)
        and field.raw_data is None
        and not field.errors
        and not callable(field.default)
        and field.object_data == field.default
    )


def pristine_once(render, field, *args) -> Markup:
    """``render(field, *args)``, kept per form class, field and locale while
    the field is as declared (no submitted value, no data given, no error).

    A blank form is the same HTML for every visitor, and rendering its labels
    and inputs is most of a public page's cost; once anything makes the field
    differ, it is rendered afresh. Only forms whose Meta sets
    ``pristine_once = True`` take part: their views never change a field's
    data or choices after building the form.
    """
    if not _is_pristine(field):
        return render(field, *args)
    # The meta class is made per form class, so it names the declaration.
    key = (type(field.meta), field.name, args, str(get_locale()))
    return kept(key, lambda: render(field, *args))


def pristine_form(render, form, *args) -> Markup:
    """``render(form, *args)`` (a whole ``<form>``), kept per form class,
    arguments, locale and URL root while every field is pristine (see
    ``pristine_once``): a public page's blank sign and join forms are then
    one lookup, not a macro call, a URL and a message or two per field.

    ``form`` may be the form class: on a GET (which never reads a form's
    data from the request) a blank form kept already is then not even built.
    ``args`` must name everything else the HTML depends on (a slug, a flag);
    the URL root (``request.script_root``: the language prefix) is in the key.
    """
    if isinstance(form, type):
        html = kept_already(_form_key(form, render, args))
        if html is not None and request.method in ("GET", "HEAD"):
            return html
        form = form()
    if form.errors or not all(_is_pristine(field) for field in form):
        return render(form, *args)
    return kept(_form_key(type(form), render, args), lambda: render(form, *args))


def _form_key(form_class, render, args) -> tuple:
    """What a kept whole form's HTML is filed under."""
    locale = str(get_locale())
    return (form_class, macro_code(render), args, locale, request.script_root)


def country_name(code: str) -> str:
    """A country's name in the visitor's language."""
    return dict(_countries_for(str(get_locale()))).get(code, code)


def email_field(**options) -> EmailField:
    """A required email address: syntax checked, kept in its normal form.

    ``options`` go to the field (an ``id`` where two forms share a page)."""
    return EmailField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your email address.")), valid_email],
        render_kw={"autocomplete": "email", "maxlength": 320},
        **options,
    )


def name_field(label, required: bool, **options) -> StringField:
    """A person's name: plain text, no links, no formula start."""
    presence = DataRequired(_l("Enter your name.")) if required else Optional()
    return StringField(
        label,
        filters=PERSON_TEXT,
        validators=[
            presence,
            Length(max=255, message=_l("Your name must be 255 characters or fewer.")),
            plain_name,
            plain_text,
        ],
        render_kw={"autocomplete": "name", "maxlength": 255},
        **options,
    )


def country_field(label, required: bool, **options) -> SelectField:
    """A country from the ISO 3166 list, named in the visitor's language."""
    presence = DataRequired(_l("Choose your country.")) if required else Optional()
    return SelectField(
        label,
        choices=country_choices,
        validate_choice=False,
        widget=CountrySelect(),
        validators=[
            presence,
            AnyOf(COUNTRY_CODES, message=_l("Choose your country from the list.")),
        ],
        render_kw={"autocomplete": "country"},
        **options,
    )


def render_form(template: str, form, **context):
    """A page with a form: 400 when the form was refused, so the status says
    so too (tests, assistive tools and proxies see it), 200 otherwise."""
    from flask import render_template

    status = 400 if form.errors else 200
    return render_template(template, form=form, **context), status


@pass_context
def refused_form(context) -> bool:
    """Whether a form on the page being rendered was refused (its title then
    starts with "Error:"), whatever the view named it."""
    return any(
        isinstance(value, BaseForm) and value.errors
        for value in context.get_all().values()
    )


def register(app) -> None:
    """Give templates the form helpers: kept blank fields and forms, country
    names in the page's language, and whether a form was refused."""
    app.jinja_env.globals.update(
        refused_form=refused_form,
        country_name=country_name,
        pristine_once=pristine_once,
        pristine_form=pristine_form,
    )
