"""Mailing-list forms, and the consent wordings recorded with each opt-in."""

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    Form,
    FormField,
    HiddenField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from campaign.forms import (
    BAD_CHOICE,
    COUNTRY_CODES,
    at_most,
    country_code_field,
    country_field,
    email_field,
    name_field,
    plain_text,
    strip,
    valid_email,
)
from campaign.localised import lang_and_dir, language_name
from campaign.models import now_utc

# What people agree to, word for word; the consent record keeps the text.
JOIN_WORDING = _l(
    "Email me news and calls to action from this campaign. "
    "I can unsubscribe at any time."
)
RETURN_WORDING = _l("Start sending me this campaign's emails again.")
SOURCES = ("join", "story")


class JoinForm(FlaskForm):
    """Email, and an optional name and country."""

    class Meta:
        # Checked by campaign/origin.py instead (see petition/forms.py).
        csrf = False
        pristine_once = True  # blank fields rendered once (campaign/forms.py)

    # Ids of their own: the story page shows this form beside the sign form,
    # whose fields have the same names (the names posted stay the same).
    email = email_field(id="join-email")
    name = name_field(_l("Name (optional)"), required=False, id="join-name")
    country = country_field(_l("Country (optional)"), required=False, id="join-country")
    # A label of its own (never shown): without one WTForms translates the
    # field's name, which loads its message catalogue on every page view.
    source = HiddenField("", default="join", validators=[AnyOf(SOURCES)])


# A broadcast's limits, the same in every language's version.
SUBJECT_LIMIT = Length(
    max=200, message=_l("The subject can be at most 200 characters.")
)
BODY_LIMIT = Length(
    max=50_000, message=_l("The message can be at most 50,000 characters.")
)


class AnySelectField(SelectField):
    """A choice that may be left out of the form altogether: "any"."""

    def pre_validate(self, form) -> None:
        """Nothing chosen (not even sent) means any; else one of the options."""
        if self.data in (None, ""):
            self.data = ""
            return
        super().pre_validate(form)


class BroadcastForm(FlaskForm):
    """What organisers write: subject, Markdown body, who it goes to."""

    subject = StringField(
        _l("Subject"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write a subject.")),
            SUBJECT_LIMIT,
            plain_text,
        ],
    )
    body_markdown = TextAreaField(
        _l("Message (Markdown)"),
        validators=[
            DataRequired(_l("Write the message.")),
            BODY_LIMIT,
        ],
        render_kw={"rows": 16},
    )
    audience = SelectField(
        _l("Send to"), choices=[], invalid_choice_message=BAD_CHOICE
    )  # choices: every subscriber, or one petition's (views.py)
    # The segment: choices set by the view (segment_choices).
    segment_locale = AnySelectField(
        _l("Only subscribers in this language"),
        choices=[],
        invalid_choice_message=BAD_CHOICE,
    )
    segment_country = country_code_field(
        _l("Only subscribers in this country (two-letter code, optional)")
    )
    segment_source = AnySelectField(
        _l("Only subscribers who joined through"),
        choices=[],
        invalid_choice_message=BAD_CHOICE,
    )

    def segment(self) -> dict:
        """The chosen segment, as the broadcast's columns (None: any)."""
        return {
            "segment_locale": self.segment_locale.data or None,
            "segment_country": self.segment_country.data or None,
            "segment_source": self.segment_source.data or None,
        }

    def versions(self) -> dict[str, "FormField"]:
        """The optional version for each other language, by locale."""
        return {
            name.removeprefix("version_"): field
            for name, field in self._fields.items()
            if name.startswith("version_")
        }

    def fill_versions(self, broadcast) -> None:
        """Show a saved broadcast's other-language versions in their fields."""
        saved = {version.locale: version for version in broadcast.versions}
        for locale, field in self.versions().items():
            if locale in saved:
                field.form.subject.data = saved[locale].subject
                field.form.body_markdown.data = saved[locale].body_markdown

    def version_data(self) -> dict[str, tuple[str, str] | None]:
        """``{locale: (subject, body)}`` for each language offered; None where
        both were left empty (no version: English goes to those readers)."""
        return {
            locale: (field.form.subject.data, field.form.body_markdown.data)
            if field.form.subject.data
            else None
            for locale, field in self.versions().items()
        }


class VersionForm(Form):
    """A broadcast's subject and text in one more language: both, or neither
    (the fields come from ``version_form``, marked with the language)."""

    def validate(self, extra_validators=None) -> bool:
        """Each field's rules, and a subject exactly when there is a message."""
        valid = super().validate(extra_validators)
        if bool(self.subject.data) != bool(self.body_markdown.data):
            empty = self.body_markdown if self.subject.data else self.subject
            empty.errors = [*empty.errors, BOTH_OR_NEITHER]
            return False
        return valid


BOTH_OR_NEITHER = _l(
    "Write both the subject and the message in this language, or leave both empty."
)


def version_form(code: str) -> type[VersionForm]:
    """The version fields for language ``code``, with its ``lang`` and ``dir``."""
    attributes = lang_and_dir(code)

    class Version(VersionForm):
        subject = StringField(
            _l("Subject"),
            filters=[strip],
            validators=[SUBJECT_LIMIT, plain_text],
            render_kw=attributes,
        )
        body_markdown = TextAreaField(
            _l("Message (Markdown)"),
            filters=[strip],
            validators=[BODY_LIMIT],
            render_kw={"rows": 12, **attributes},
        )

    return Version


def broadcast_form(languages: list[str], **kwargs) -> BroadcastForm:
    """The broadcast form with an optional version for each of ``languages``
    (the site's languages other than English)."""

    class LocalisedBroadcastForm(BroadcastForm):
        pass

    for code in languages:
        field = FormField(version_form(code), label=language_name(code))
        setattr(LocalisedBroadcastForm, f"version_{code}", field)
    return LocalisedBroadcastForm(**kwargs)


class ConfirmForm(FlaskForm):
    """The second step of an action that needs a yes: sending, scheduling,
    deleting; without ``confirm`` the view only shows what would happen."""

    confirm = HiddenField("")

    def confirmed(self) -> bool:
        """Whether this is the confirming POST."""
        return self.confirm.data == "yes"


class TestCopyForm(FlaskForm):
    """Which version of a broadcast to send the organiser as a test."""

    locale = HiddenField("", default="en")


class ScheduleForm(FlaskForm):
    """When to send, in UTC."""

    send_at = DateTimeLocalField(
        _l("Send at (UTC)"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(_l("Choose a date and time."))],
        invalid_value_message=_l("Choose a date and time."),
    )

    def validate_send_at(self, field) -> None:
        """Only the future can be scheduled."""
        if field.data and self.send_at_utc() <= now_utc():
            raise ValidationError(_l("Choose a time in the future."))

    def send_at_utc(self) -> datetime:
        """The chosen time, as an aware UTC datetime."""
        return self.send_at.data.replace(tzinfo=UTC)


class BounceForm(FlaskForm):
    """A bounce or complaint reported by the mail provider."""

    email = EmailField(
        _l("Address"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the address.")), valid_email],
    )
    kind = SelectField(
        _l("What happened"),
        choices=[
            SelectChoice("hard", _l("Hard bounce (the address does not exist)")),
            SelectChoice("soft", _l("Soft bounce (mailbox full, try later)")),
            SelectChoice("complaint", _l("Spam complaint")),
        ],
        invalid_choice_message=BAD_CHOICE,
    )


class SubscriberFilterForm(FlaskForm):
    """Which subscribers the list page shows and exports: from the query string."""

    class Meta:
        csrf = False  # a search: it changes nothing

    # Addresses are stored encrypted: only a whole one can be found.
    search = SearchField(
        _l("Email"),
        filters=[strip],
        validators=[Optional(), at_most(320), valid_email],
        description=_l(
            "Addresses are stored encrypted: search for a whole email address"
            " (the start of one no longer finds anything)."
        ),
        render_kw={"maxlength": 320, "autocomplete": "off"},
    )
    state = AnySelectField(_l("State"), choices=[], invalid_choice_message=BAD_CHOICE)
    source = AnySelectField(
        _l("Joined through"), choices=[], invalid_choice_message=BAD_CHOICE
    )
    language = AnySelectField(
        _l("Language"), choices=[], invalid_choice_message=BAD_CHOICE
    )
    country = StringField(
        _l("Country code"),
        filters=[strip, lambda v: v.upper() if v else v],
        validators=[
            Optional(),
            AnyOf(COUNTRY_CODES, message=_l("Use a two-letter country code.")),
        ],
        render_kw={"maxlength": 2, "size": 3},
    )
    petition = AnySelectField(
        _l("Signed the petition"), choices=[], invalid_choice_message=BAD_CHOICE
    )


# The import's name becomes the consent source "import:<name>".
IMPORT_NAME = Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$",
    message=_l(
        "Use up to 60 letters, digits, dots, dashes or underscores, "
        "like spring-rally-2026."
    ),
)


class ImportForm(FlaskForm):
    """A CSV file of people to add, where they agreed, and to what."""

    file = FileField(
        _l("CSV file (columns: email, name, country, language)"),
        validators=[
            FileRequired(_l("Choose a CSV file.")),
            FileAllowed(["csv"], _l("Choose a file ending in .csv.")),
        ],
        render_kw={"accept": ".csv,text/csv"},
    )
    name = StringField(
        _l("Where these people agreed (a short name for this list)"),
        filters=[strip],
        validators=[DataRequired(_l("Name where these people agreed.")), IMPORT_NAME],
        render_kw={"maxlength": 60},
    )
    wording = TextAreaField(
        _l("The words they agreed to, exactly as shown to them"),
        filters=[strip],
        validators=[
            DataRequired(_l("Copy in the words they agreed to.")),
            at_most(2000),
            plain_text,
        ],
        render_kw={"rows": 4},
    )
    attested = BooleanField(
        _l(
            "I confirm these people already agreed to these words and proved "
            "their address: add them without a confirmation email"
        )
    )
