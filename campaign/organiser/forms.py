"""Organiser forms: sign-in, two-factor, password, accounts, petition editing."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
)

from campaign.donate.models import DonationKind, DonationState
from campaign.forms import COUNTRY_CODES, strip
from campaign.organiser.care import Selection
from campaign.organiser.donations import DonationFilters
from campaign.organiser.exports import Filters
from campaign.petition.models import SignatureState


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your email address.")), Length(max=320)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )


class CodeForm(FlaskForm):
    """A code from the authenticator app (or, where allowed, a recovery code)."""

    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the code.")), Length(max=32)],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "text",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class PasswordForm(FlaskForm):
    """Current password, then the new one twice."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("New password (at least 12 characters)"),
        validators=[
            DataRequired(_l("Enter a new password.")),
            Length(min=12, max=1000, message=_l("Use at least 12 characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new", message=_l("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class PetitionForm(FlaskForm):
    """What organisers may change about a petition."""

    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[DataRequired(_l("Give the petition a title.")), Length(max=300)],
    )
    target = StringField(
        _l("Addressed to"),
        filters=[strip],
        validators=[DataRequired(_l("Say whom the petition asks.")), Length(max=500)],
    )
    body_markdown = TextAreaField(
        _l("Petition text (Markdown)"),
        validators=[DataRequired(_l("Write the petition text.")), Length(max=20000)],
        render_kw={"rows": 12},
    )
    goal = IntegerField(
        _l("Goal (signatures)"),
        validators=[
            DataRequired(_l("Set a goal.")),
            NumberRange(min=1, max=100_000_000, message=_l("Set a goal above zero.")),
        ],
    )
    state = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("open", _l("Open: taking signatures")),
            SelectChoice("closed", _l("Closed")),
        ],
    )


class ExportForm(FlaskForm):
    """Which signatures to export: read from the query string."""

    class Meta:
        csrf = False  # a download link: it changes nothing

    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("Any")),
            *[SelectChoice(s.value, s.value) for s in SignatureState],
        ],
        default="",
    )
    since = DateField(_l("Signed on or after"), validators=[Optional()])
    until = DateField(_l("Signed on or before"), validators=[Optional()])
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
        _l("Email domain"), filters=[strip], validators=[Optional(), Length(max=255)]
    )
    since = DateField(_l("Signed on or after"), validators=[Optional()])
    until = DateField(_l("Signed on or before"), validators=[Optional()])
    ip_key = StringField(
        _l("Client key (from the CSV)"),
        filters=[strip],
        validators=[Optional(), Length(min=64, max=64)],
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


class SupporterForm(FlaskForm):
    """A supporter's email, sent in the body so it never lands in a URL or log."""

    email = EmailField(
        _l("Supporter's email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the supporter's email.")), Length(max=320)],
    )


ROLE_CHOICES = [
    SelectChoice("staff", _l("Staff: read, export, moderate")),
    SelectChoice("editor", _l("Editor: petitions, stories, broadcasts")),
    SelectChoice("admin", _l("Admin: everything, including accounts")),
]


class NewOrganiserForm(FlaskForm):
    """An admin adds an organiser with a first password to hand over."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter their email address.")), Length(max=320)],
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(
        _l("First password (at least 12 characters)"),
        validators=[
            DataRequired(_l("Set a first password.")),
            Length(min=12, max=1000, message=_l("Use at least 12 characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class RoleForm(FlaskForm):
    """An admin gives an account another role."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class SettingsForm(FlaskForm):
    """Site-wide settings only admins change."""

    require_two_factor = BooleanField(
        _l("Require two-factor sign-in for every organiser")
    )


class DonationFilterForm(FlaskForm):
    """Which donations to list or export: read from the query string."""

    class Meta:
        csrf = False  # a filter and a download link: they change nothing

    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("Any")),
            *[SelectChoice(s.value, s.value) for s in DonationState],
        ],
        default="",
    )
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice(DonationKind.ONE_OFF.value, _l("One-off")),
            SelectChoice(DonationKind.MONTHLY.value, _l("Monthly")),
        ],
        default="",
    )
    since = DateField(_l("Made on or after"), validators=[Optional()])
    until = DateField(_l("Made on or before"), validators=[Optional()])

    def filters(self) -> DonationFilters:
        """The chosen filters."""
        return DonationFilters(
            state=DonationState(self.state.data) if self.state.data else None,
            kind=DonationKind(self.kind.data) if self.kind.data else None,
            since=self.since.data,
            until=self.until.data,
        )
