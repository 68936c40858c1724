"""Petition forms: the sign form, and the organisers' edit, update, export
and moderation forms. Syntax rules only; business rules live in services."""

import functools

from flask_babel import LazyString, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from campaign.forms import (
    BAD_CHOICE,
    BAD_DATE,
    PERSON_TEXT,
    at_most,
    country_code_field,
    country_field,
    email_field,
    lazy_number,
    name_field,
    plain_text,
    strip,
)
from campaign.localised import lang_and_dir, language_name
from campaign.petition.exports import Filters
from campaign.petition.goals import GoalMode
from campaign.petition.lifecycle import story_choices
from campaign.petition.models import PETITION_WORDING, UPDATES_WORDING, SignatureState
from campaign.petition.moderation import Selection
from campaign.petition.services import TEXT_FIELDS
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


def title_field(label, required: bool = True, **options) -> StringField:
    """A petition's title (in English, or in a language version)."""
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(_l("Give the petition a title.")) if required else Optional(),
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
        **options,
    )


def target_field(label, required: bool = True, **options) -> StringField:
    """Whom the petition asks: the decision-maker."""
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(_l("Say whom the petition asks.")) if required else Optional(),
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
        **options,
    )


def body_field(label, required: bool = True, **options) -> TextAreaField:
    """The petition's text, in Markdown."""
    return TextAreaField(
        label,
        validators=[
            DataRequired(_l("Write the petition text.")) if required else Optional(),
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
        **options,
    )


def _mode_value(value):
    """A goal mode as its form value ("fixed"), whether given as enum or text."""
    return value.value if isinstance(value, GoalMode) else value


def _story_value(value):
    """A story id as its form value ("" for none)."""
    return "" if value in (None, "") else str(value)


# Paths of the organiser area a slug must not take (/organiser/petitions/new).
RESERVED_SLUGS = {"new"}


def not_reserved(form, field) -> None:
    """Refuse a slug the site's own pages use."""
    if field.data in RESERVED_SLUGS:
        raise ValidationError(_l("That address is used by the site: choose another."))


# What an English field is written in, whatever the organiser pages' language.
ENGLISH = {"lang": "en", "dir": "ltr"}


def slug_field(description) -> StringField:
    """A petition's web address as typed (optional), with its hint."""
    return StringField(
        _l("Web address (slug)"),
        description=description,
        filters=[strip, lowercase],
        validators=[Optional(), slug_field_check, not_reserved],
        render_kw={
            "maxlength": SLUG_MAX,
            "dir": "ltr",
            "spellcheck": "false",
            "aria-describedby": "slug-hint",
        },
    )


class PetitionForm(FlaskForm):
    """What organisers set about a petition: its English words, its goal and
    the story it belongs to (the edit page adds each language version)."""

    title = title_field(_l("Title"), render_kw=ENGLISH)
    target = target_field(_l("Addressed to (the decision-maker)"), render_kw=ENGLISH)
    body_markdown = body_field(
        _l("Petition text (Markdown)"), render_kw={"rows": 12, **ENGLISH}
    )
    slug = slug_field(
        _l(
            "The last part of the petition's address, /petitions/…. After a "
            "change the old address keeps leading here."
        )
    )
    goal = IntegerField(
        _l("Goal (signatures)"),
        validators=[
            DataRequired(_l("Set a goal.")),
            NumberRange(min=1, max=100_000_000, message=_l("Set a goal above zero.")),
        ],
        invalid_value_message=_l("Set the goal as a whole number, like 1000."),
    )
    goal_mode = SelectField(
        _l("When the goal is reached"),
        choices=[SelectChoice(mode.value, mode.label) for mode in GoalMode],
        coerce=_mode_value,
        default=GoalMode.FIXED.value,
        invalid_choice_message=BAD_CHOICE,
    )
    story_id = SelectField(
        _l("Story it belongs to"),
        coerce=_story_value,
        default="",
        invalid_choice_message=BAD_CHOICE,
    )

    def __init__(self, *args, **kwargs):
        """The form, offering the stories there are now."""
        super().__init__(*args, **kwargs)
        self.story_id.choices = [
            SelectChoice("", _l("None")),
            *[SelectChoice(str(id_), title) for id_, title in story_choices()],
        ]

    def fields(self) -> dict:
        """The English words, goal and story, by the petition's attribute names."""
        return {
            "title": self.title.data,
            "target": self.target.data,
            "body_markdown": self.body_markdown.data,
            "slug": self.slug.data,
            "goal": self.goal.data,
            "goal_mode": GoalMode(self.goal_mode.data),
            "story_id": int(self.story_id.data) if self.story_id.data else None,
        }


class NewPetitionForm(PetitionForm):
    """A new petition: the edit form's fields; its address may be left to
    be made from the title."""

    slug = slug_field(
        _l(
            "The last part of the petition's address, /petitions/…. Leave it "
            "empty to make one from the title."
        )
    )


class EditPetitionForm(PetitionForm):
    """The edit page: the English petition beside a version in each other
    language (fields ``title_<locale>`` …, built by ``edit_form_class``)."""

    locales: tuple[str, ...] = ()

    def version_fields(self, locale: str) -> list:
        """One language version's fields: title, target, text."""
        return [getattr(self, f"{name}_{locale}") for name in TEXT_FIELDS]

    def validate(self, extra_validators=None) -> bool:
        """Each language version is whole (title, target and text) or empty."""
        valid = super().validate(extra_validators)
        for locale in self.locales:
            fields = self.version_fields(locale)
            if any(f.data for f in fields):
                for f in fields:
                    if not f.data and not f.errors:
                        f.errors.append(VERSION_INCOMPLETE)
                        valid = False
        return valid

    def translations(self) -> dict[str, dict[str, str]]:
        """Each language version's words, by locale (all empty: no version)."""
        return {
            locale: {
                name: (getattr(self, f"{name}_{locale}").data or "")
                for name in TEXT_FIELDS
            }
            for locale in self.locales
        }


VERSION_INCOMPLETE = _l(
    "Fill this in too, or leave this language's title, addressee and text "
    "all empty (then the English is shown)."
)


@functools.cache
def edit_form_class(locales: tuple[str, ...]) -> type[EditPetitionForm]:
    """The edit form with a title, addressee and text for each of ``locales``,
    each field marked with its language's ``lang`` and ``dir``."""
    fields = {"locales": locales}
    for code in locales:
        marks = lang_and_dir(code)
        fields[f"title_{code}"] = title_field(
            _version_label(_l("Title (%(language)s)"), code),
            required=False,
            render_kw=marks,
        )
        fields[f"target_{code}"] = target_field(
            _version_label(_l("Addressed to (%(language)s)"), code),
            required=False,
            render_kw=marks,
        )
        fields[f"body_markdown_{code}"] = body_field(
            _version_label(_l("Petition text in Markdown (%(language)s)"), code),
            required=False,
            render_kw={"rows": 12, **marks},
        )
    return type("EditPetitionForm", (EditPetitionForm,), fields)


def _version_label(label, code: str) -> LazyString:
    """A field label naming the language, in the organiser pages' language."""
    return LazyString(lambda: str(label) % {"language": language_name(code)})


def edit_form_data(petition, translations: dict) -> dict:
    """What the edit form starts with: the petition and its language versions."""
    data = {
        "title": petition.title,
        "target": petition.target,
        "body_markdown": petition.body_markdown,
        "slug": petition.slug,
        "goal": petition.goal,
        "goal_mode": petition.goal_mode.value,
        "story_id": _story_value(petition.story_id),
    }
    for locale, row in translations.items():
        for name in TEXT_FIELDS:
            data[f"{name}_{locale}"] = getattr(row, name)
    return data


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
    country = country_code_field(_l("Country code"))
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
    """Which signatures to invalidate (or restore) in bulk; at least one criterion."""

    mode = RadioField(
        _l("What to do"),
        choices=[
            SelectChoice("invalidate", _l("Invalidate matching signatures")),
            SelectChoice("restore", _l("Restore matching removed signatures")),
        ],
        default="invalidate",
        invalid_choice_message=BAD_CHOICE,
    )

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
    confirm = BooleanField(_l("Yes, I have checked them: go ahead"))
    # What was previewed (mode and criteria): only that is acted on.
    previewed = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        """Refuse a selection with no criterion: it would take everything."""
        if not super().validate(extra_validators):
            return False
        if not any(vars(self.selection()).values()):
            self.email_domain.errors.append(_l("Choose at least one criterion."))
            return False
        return True

    @staticmethod
    def prefill(args) -> dict:
        """The criteria a link names (``?ip_key=…``, ``?email_domain=…``)."""
        return {
            name: args[name] for name in ("ip_key", "email_domain") if args.get(name)
        }

    def selection(self) -> Selection:
        """The chosen criteria."""
        return Selection(
            email_domain=self.email_domain.data or None,
            since=self.since.data,
            until=self.until.data,
            ip_key=self.ip_key.data or None,
        )

    @property
    def restoring(self) -> bool:
        """Whether the organiser chose to restore rather than invalidate."""
        return self.mode.data == "restore"


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
