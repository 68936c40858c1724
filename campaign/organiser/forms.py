"""Organiser account forms: sign-in, password, new accounts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
)

from campaign.forms import strip


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


class NewOrganiserForm(FlaskForm):
    """An admin adds an organiser with a first password to hand over."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter their email address.")), Length(max=320)],
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("staff", _l("Staff: read, export, moderate")),
            SelectChoice("editor", _l("Editor: also petitions and broadcasts")),
            SelectChoice("admin", _l("Admin: everything, including accounts")),
        ],
    )
    password = PasswordField(
        _l("First password (at least 12 characters)"),
        validators=[
            DataRequired(_l("Set a first password.")),
            Length(min=12, max=1000, message=_l("Use at least 12 characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
