"""Petition forms: the sign form, and the organisers' edit, update, export
and moderation forms. Syntax rules only; business rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from campaign.forms import (
    BAD_CHOICE,
    BAD_DATE,
    COUNTRY_CODES,
    PERSON_TEXT,
    at_most,
    country_field,
    email_field,
    lazy_number,
    name_field,
    plain_text,
    strip,
)
from campaign.localised import lang_and_dir, language_name
from campaign.petition.exports import Filters
from campaign.petition.models import PETITION_WORDING, UPDATES_WORDING, SignatureState
from campaign.petition.moderation import Selection
from campaign.slugs import SLUG_MAX, lowercase, slug_field_check

COMMENT_MAX = 500

# Field limits; the body limit (ORGANISER_MAX_CONTENT_LENGTH) fits them all
# even in a script of two-byte letters, each escaped to six bytes.
TITLE_MAX = 300
TARGET_MAX = 500
PETITION_TEXT_MAX = 20_000


class SignForm(FlaskForm):
    """Name, email, country, an optional comment and three unticked choices."""

    class Meta:
        # Posted from a cacheable public page: campaign/origin.py checks where
        # it came from instead of a session-bound token.
        csrf = False
        pristine_once = True  # blank fields rendered once (campaign/forms.py)

    name = name_field(_l("Full name"), required=True)
    email = email_field()
    country = country_field(_l("Country"), required=True)
    comment = TextAreaField(
        _l(
            "Why I'm signing (optional; shown on this page only if you choose "
            "to be listed below)"
        ),
        filters=PERSON_TEXT,
        validators=[
            Optional(),
            Length(
                max=COMMENT_MAX,
                message=lazy_ngettext(
                    "Keep your comment to %(count)s character.",
                    "Keep your comment to %(count)s characters.",
                    COMMENT_MAX,
                    count=lazy_number(COMMENT_MAX),
                ),
            ),
            plain_text,
        ],
        render_kw={"maxlength": COMMENT_MAX, "rows": 3},
    )
    wants_updates = BooleanField(UPDATES_WORDING)
    join_list = BooleanField(PETITION_WORDING)
    public = BooleanField(_l("Show my first name, country and comment on this page"))


class PetitionForm(FlaskForm):
    """What organisers may change about a petition."""

    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the petition a title.")),
            Length(
                max=TITLE_MAX,
                message=lazy_ngettext(
                    "The title can be at most %(count)s character.",
                    "The title can be at most %(count)s characters.",
                    TITLE_MAX,
                    count=lazy_number(TITLE_MAX),
                ),
            ),
        ],
    )
    target = StringField(
        _l("Addressed to"),
        filters=[strip],
        validators=[
            DataRequired(_l("Say whom the petition asks.")),
            Length(
                max=TARGET_MAX,
                message=lazy_ngettext(
                    '"Addressed to" can be at most %(count)s character.',
                    '"Addressed to" can be at most %(count)s characters.',
                    TARGET_MAX,
                    count=lazy_number(TARGET_MAX),
                ),
            ),
        ],
    )
    body_markdown = TextAreaField(
        _l("Petition text (Markdown)"),
        validators=[
            DataRequired(_l("Write the petition text.")),
            Length(
                max=PETITION_TEXT_MAX,
                message=lazy_ngettext(
                    "The petition text can be at most %(count)s character.",
                    "The petition text can be at most %(count)s characters.",
                    PETITION_TEXT_MAX,
                    count=lazy_number(PETITION_TEXT_MAX),
                ),
            ),
        ],
        render_kw={"rows": 12},
    )
    slug = StringField(
        _l("Web address (slug)"),
        description=_l(
            "The last part of the petition's address, /petitions/…. After a "
            "change the old address keeps leading here."
        ),
        filters=[strip, lowercase],
        validators=[Optional(), slug_field_check],
        render_kw={
            "maxlength": SLUG_MAX,
            "dir": "ltr",
            "spellcheck": "false",
            "aria-describedby": "slug-hint",
        },
    )
    goal = IntegerField(
        _l("Goal (signatures)"),
        validators=[
            DataRequired(_l("Set a goal.")),
            NumberRange(min=1, max=100_000_000, message=_l("Set a goal above zero.")),
        ],
        invalid_value_message=_l("Set the goal as a whole number, like 1000."),
    )
    state = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("open", _l("Open: taking signatures")),
            SelectChoice("closed", _l("Closed")),
        ],
        invalid_choice_message=BAD_CHOICE,
    )

    def fields(self) -> dict:
        """The edited values, by field name."""
        names = ["title", "target", "body_markdown", "slug", "goal", "state"]
        return {name: getattr(self, name).data for name in names}


def signed_date(label) -> DateField:
    """An optional day bounding when signatures were made (filters, bulk)."""
    return DateField(label, validators=[Optional()], invalid_value_message=BAD_DATE)


class ExportForm(FlaskForm):
    """Which signatures to export: read from the query string."""

    class Meta:
        csrf = False  # a download link: it changes nothing

    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("Any")),
            *[SelectChoice(s.value, s.label) for s in SignatureState],
        ],
        default="",
        invalid_choice_message=BAD_CHOICE,
    )
    since = signed_date(_l("Signed on or after"))
    until = signed_date(_l("Signed on or before"))
    country = StringField(
        _l("Country code"),
        filters=[strip, lambda v: v.upper() if v else v],
        validators=[
            Optional(),
            AnyOf(COUNTRY_CODES, message=_l("Use a two-letter country code.")),
        ],
        render_kw={"maxlength": 2, "size": 3},
    )
    opted_in = BooleanField(_l("Only people who joined the mailing list"))

    def filters(self) -> Filters:
        """The chosen filters."""
        return Filters(
            state=SignatureState(self.state.data) if self.state.data else None,
            since=self.since.data,
            until=self.until.data,
            country=self.country.data or None,
            opted_in=self.opted_in.data,
        )


class SelectionForm(FlaskForm):
    """Which signatures to invalidate in bulk; at least one criterion."""

    email_domain = StringField(
        _l("Email domain"), filters=[strip], validators=[Optional(), at_most(255)]
    )
    since = signed_date(_l("Signed on or after"))
    until = signed_date(_l("Signed on or before"))
    ip_key = StringField(
        _l("Client key (from the CSV)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(min=64, max=64, message=_l("Paste the whole key: 64 characters.")),
        ],
    )
    confirm = BooleanField(_l("Yes, invalidate these signatures"))

    def validate(self, extra_validators=None) -> bool:
        """Refuse a selection with no criterion: it would take everything."""
        if not super().validate(extra_validators):
            return False
        if not any(self.selection().__dict__.values()):
            self.email_domain.errors.append(_l("Choose at least one criterion."))
            return False
        return True

    def selection(self) -> Selection:
        """The chosen criteria."""
        return Selection(
            email_domain=self.email_domain.data or None,
            since=self.since.data,
            until=self.until.data,
            ip_key=self.ip_key.data or None,
        )


# An update's limits (its title is the email's subject), in every language.
UPDATE_TITLE_MAX = 200
UPDATE_TEXT_MAX = 50_000
UPDATE_TITLE_LIMIT = Length(
    max=UPDATE_TITLE_MAX,
    message=lazy_ngettext(
        "The title can be at most %(count)s character.",
        "The title can be at most %(count)s characters.",
        UPDATE_TITLE_MAX,
        count=lazy_number(UPDATE_TITLE_MAX),
    ),
)
UPDATE_TEXT_LIMIT = Length(
    max=UPDATE_TEXT_MAX,
    message=lazy_ngettext(
        "The update can be at most %(count)s character.",
        "The update can be at most %(count)s characters.",
        UPDATE_TEXT_MAX,
        count=lazy_number(UPDATE_TEXT_MAX),
    ),
)
BOTH_OR_NEITHER = _l(
    "Write both the title and the update in this language, or leave both empty."
)


class UpdateVersionForm(Form):
    """An update's title and text in one more language: both, or neither."""

    def validate(self, extra_validators=None) -> bool:
        """Each field's rules, and a title exactly when there is a text."""
        valid = super().validate(extra_validators)
        if bool(self.title.data) != bool(self.body_markdown.data):
            empty = self.body_markdown if self.title.data else self.title
            empty.errors = [*empty.errors, BOTH_OR_NEITHER]
            return False
        return valid


def update_version_form(code: str) -> type[UpdateVersionForm]:
    """The version fields for language ``code``, with its ``lang`` and ``dir``."""
    attributes = lang_and_dir(code)

    class Version(UpdateVersionForm):
        title = StringField(
            _l("Title"),
            filters=[strip],
            validators=[UPDATE_TITLE_LIMIT, plain_text],
            render_kw=attributes,
        )
        body_markdown = TextAreaField(
            _l("Update (Markdown)"),
            filters=[strip],
            validators=[UPDATE_TEXT_LIMIT],
            render_kw={"rows": 10, **attributes},
        )

    return Version


class UpdateForm(FlaskForm):
    """A petition update: a title, Markdown text, and optional versions."""

    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the update a title.")),
            UPDATE_TITLE_LIMIT,
            plain_text,
        ],
    )
    body_markdown = TextAreaField(
        _l("Update (Markdown)"),
        filters=[strip],
        validators=[DataRequired(_l("Write the update.")), UPDATE_TEXT_LIMIT],
        render_kw={"rows": 12},
    )

    def versions(self) -> dict[str, FormField]:
        """The optional version for each other language, by locale."""
        return {
            name.removeprefix("version_"): field
            for name, field in self._fields.items()
            if name.startswith("version_")
        }

    def version_data(self) -> dict[str, tuple[str, str] | None]:
        """``{locale: (title, body)}``; None where both were left empty."""
        return {
            locale: (field.form.title.data, field.form.body_markdown.data)
            if field.form.title.data
            else None
            for locale, field in self.versions().items()
        }


def update_form(languages: list[str], **kwargs) -> UpdateForm:
    """The update form with an optional version for each of ``languages``."""

    class LocalisedUpdateForm(UpdateForm):
        pass

    for code in languages:
        field = FormField(update_version_form(code), label=language_name(code))
        setattr(LocalisedUpdateForm, f"version_{code}", field)
    return LocalisedUpdateForm(**kwargs)
