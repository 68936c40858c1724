"""The form organisers find a supporter with (the email travels in the body)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired

from campaign.forms import at_most, strip


class SupporterForm(FlaskForm):
    """A supporter's email, sent in the body so it never lands in a URL or log."""

    email = EmailField(
        _l("Supporter's email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the supporter's email.")), at_most(320)],
    )
