"""Mailing-list forms, and the consent wordings recorded with each opt-in."""

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Length,
    ValidationError,
)

from campaign.forms import (
    country_field,
    email_field,
    name_field,
    plain_text,
    strip,
    valid_email,
)
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


class BroadcastForm(FlaskForm):
    """What organisers write: subject, Markdown body, who it goes to."""

    subject = StringField(
        _l("Subject"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write a subject.")),
            Length(max=200, message=_l("The subject can be at most 200 characters.")),
            plain_text,
        ],
    )
    body_markdown = TextAreaField(
        _l("Message (Markdown)"),
        validators=[
            DataRequired(_l("Write the message.")),
            Length(
                max=50_000, message=_l("The message can be at most 50,000 characters.")
            ),
        ],
        render_kw={"rows": 16},
    )
    audience = SelectField(
        _l("Send to"), choices=[]
    )  # choices: every subscriber, or one petition's (views.py)


class ScheduleForm(FlaskForm):
    """When to send, in UTC."""

    send_at = DateTimeLocalField(
        _l("Send at (UTC)"),
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(_l("Choose a date and time."))],
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
    )
