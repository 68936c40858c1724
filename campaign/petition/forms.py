"""The sign form: syntax rules only; business rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from campaign.forms import (
    COUNTRY_CODES,
    country_choices,
    plain_name,
    plain_text,
    strip,
    valid_email,
)
from campaign.mailing.forms import PETITION_WORDING

COMMENT_MAX = 500


class SignForm(FlaskForm):
    """Name, email, country, an optional comment and two unticked choices."""

    class Meta:
        # CSRFProtect already checks every POST before the view runs; checking
        # (and minting a token) again in the form would double the cost.
        csrf = False

    name = StringField(
        _l("Full name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=255, message=_l("Your name must be 255 characters or fewer.")),
            plain_name,
            plain_text,
        ],
        render_kw={"autocomplete": "name", "maxlength": 255},
    )
    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your email address.")), valid_email],
        render_kw={"autocomplete": "email", "maxlength": 320},
    )
    country = SelectField(
        _l("Country"),
        choices=country_choices,
        validate_choice=False,
        validators=[
            DataRequired(_l("Choose your country.")),
            AnyOf(COUNTRY_CODES, message=_l("Choose your country from the list.")),
        ],
        render_kw={"autocomplete": "country"},
    )
    comment = TextAreaField(
        _l(
            "Why I'm signing (optional; shown on this page only if you choose "
            "to be listed below)"
        ),
        filters=[strip],
        validators=[
            Optional(),
            Length(
                max=COMMENT_MAX,
                message=_l("Keep your comment to %(max)d characters.", max=COMMENT_MAX),
            ),
            plain_text,
        ],
        render_kw={"maxlength": COMMENT_MAX, "rows": 3},
    )
    join_list = BooleanField(PETITION_WORDING)
    public = BooleanField(_l("Show my first name, country and comment on this page"))
