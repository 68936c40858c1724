"""Mailing-list forms, and the consent wordings recorded with each opt-in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from campaign.forms import (
    COUNTRY_CODES,
    country_choices,
    plain_name,
    plain_text,
    strip,
    valid_email,
)

# What people agree to, word for word; the consent record keeps the text.
JOIN_WORDING = _l(
    "Email me news and calls to action from this campaign. "
    "I can unsubscribe at any time."
)
PETITION_WORDING = _l("Email me updates about this campaign")
RETURN_WORDING = _l("Start sending me this campaign's emails again.")
SOURCES = ("join", "story")


class JoinForm(FlaskForm):
    """Email, and an optional name and country."""

    class Meta:
        # CSRFProtect checks every POST already (see petition/forms.py).
        csrf = False

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your email address.")), valid_email],
        render_kw={"autocomplete": "email", "maxlength": 320},
    )
    name = StringField(
        _l("Name (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=255, message=_l("Your name must be 255 characters or fewer.")),
            plain_name,
            plain_text,
        ],
        render_kw={"autocomplete": "name", "maxlength": 255},
    )
    country = SelectField(
        _l("Country (optional)"),
        choices=country_choices,
        validate_choice=False,
        validators=[
            Optional(),
            AnyOf(COUNTRY_CODES, message=_l("Choose your country from the list.")),
        ],
        render_kw={"autocomplete": "country"},
    )
    source = HiddenField(default="join", validators=[AnyOf(SOURCES)])
