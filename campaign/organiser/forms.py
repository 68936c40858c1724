"""Organiser account forms: sign-in, two-factor, password, accounts, settings."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
)

from campaign.forms import BAD_CHOICE, at_most, strip


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your email address.")), at_most(320)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), at_most(1000)],
        render_kw={"autocomplete": "current-password"},
    )


class CodeForm(FlaskForm):
    """A code from the authenticator app (or, where allowed, a recovery code)."""

    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the code.")), at_most(32)],
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
        validators=[DataRequired(_l("Enter their email address.")), at_most(320)],
    )
    role = SelectField(
        _l("Role"), choices=ROLE_CHOICES, invalid_choice_message=BAD_CHOICE
    )
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

    role = SelectField(
        _l("Role"), choices=ROLE_CHOICES, invalid_choice_message=BAD_CHOICE
    )


class SettingsForm(FlaskForm):
    """Site-wide settings only admins change."""

    require_two_factor = BooleanField(
        _l("Require two-factor sign-in for every organiser")
    )
