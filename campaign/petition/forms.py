"""The sign form: syntax rules only; business rules live in services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length, Optional

from campaign.forms import (
    PERSON_TEXT,
    country_field,
    email_field,
    name_field,
    plain_text,
)
from campaign.mailing.forms import PETITION_WORDING

COMMENT_MAX = 500


class SignForm(FlaskForm):
    """Name, email, country, an optional comment and two unticked choices."""

    class Meta:
        # CSRFProtect already checks every POST before the view runs; checking
        # (and minting a token) again in the form would double the cost.
        csrf = False

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
                message=_l("Keep your comment to %(max)d characters.", max=COMMENT_MAX),
            ),
            plain_text,
        ],
        render_kw={"maxlength": COMMENT_MAX, "rows": 3},
    )
    join_list = BooleanField(PETITION_WORDING)
    public = BooleanField(_l("Show my first name, country and comment on this page"))
