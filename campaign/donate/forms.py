"""The donate form: amount, how often, and optional name and email.

Syntax only; the amount's bounds are the campaign's rule (services.to_minor).
"""

import re
import secrets
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import AnyOf, Length, Optional, Regexp, ValidationError

from campaign.donate.models import DonationKind, DonationState
from campaign.donate.reports import DonationFilters
from campaign.forms import (
    BAD_CHOICE,
    BAD_DATE,
    PERSON_TEXT,
    at_most,
    plain_name,
    strip,
    valid_email,
)

OTHER = "other"
# Digits with an optional decimal part (point or comma): 25, 12.50, 12,5.
AMOUNT = re.compile(r"^\d{1,9}([.,]\d{1,2})?$")


def new_attempt() -> str:
    """A random id for one filled-in form: its Stripe idempotency key."""
    return secrets.token_urlsafe(16)


class DonateForm(FlaskForm):
    """A gift: a preset or another amount, once or monthly."""

    class Meta:
        # Posted from a cacheable public page: campaign/origin.py checks where
        # it came from instead of a session-bound token.
        csrf = False

    amount = RadioField(
        _l("Amount"), validate_choice=True, invalid_choice_message=BAD_CHOICE
    )
    custom_amount = StringField(
        _l("Other amount"),
        filters=[strip],
        validators=[
            Length(max=20, message=_l("Enter an amount in numbers, like 25 or 12.50."))
        ],
        render_kw={"inputmode": "decimal", "autocomplete": "transaction-amount"},
    )
    frequency = RadioField(
        _l("How often"),
        choices=[
            SelectChoice(DonationKind.ONE_OFF.value, _l("Once")),
            SelectChoice(DonationKind.MONTHLY.value, _l("Every month")),
        ],
        default=DonationKind.ONE_OFF.value,
        invalid_choice_message=BAD_CHOICE,
    )
    name = StringField(
        _l("Your name (optional)"),
        filters=PERSON_TEXT,
        validators=[Optional(), at_most(255), plain_name],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Email for your receipt (optional: Stripe asks if you leave it empty)"),
        filters=[strip],
        validators=[Optional(), at_most(320), valid_email],
        render_kw={"autocomplete": "email"},
    )
    attempt = HiddenField(
        default=new_attempt,
        validators=[Regexp(r"^[A-Za-z0-9_-]{16,64}$", message=_l("Reload the page."))],
    )
    source = HiddenField(default="banner", validators=[AnyOf(["banner", "petition"])])

    def __init__(self, *args, presets: list[str], **kwargs):
        """Offer the configured preset amounts (labels already formatted)."""
        super().__init__(*args, **kwargs)
        self.amount.choices = [
            *[SelectChoice(value, label) for value, label in presets],
            SelectChoice(OTHER, _l("Other amount")),
        ]
        if not self.is_submitted():
            self.amount.data = (
                presets[min(1, len(presets) - 1)][0] if presets else OTHER
            )

    def validate_custom_amount(self, field) -> None:
        """Another amount is needed, in numbers, when "Other amount" is chosen."""
        if self.amount.data != OTHER:
            return
        if not field.data:
            raise ValidationError(_l("Enter the amount you want to give."))
        if not AMOUNT.match(field.data):
            raise ValidationError(_l("Enter an amount in numbers, like 25 or 12.50."))

    def chosen_amount(self) -> Decimal:
        """The amount picked, in whole currency units."""
        if self.amount.data == OTHER:
            return Decimal(self.custom_amount.data.replace(",", "."))
        return Decimal(self.amount.data)

    def kind(self) -> DonationKind:
        """One-off or monthly."""
        return DonationKind(self.frequency.data)


class DonationFilterForm(FlaskForm):
    """Which donations to list or export: read from the query string."""

    class Meta:
        csrf = False  # a filter and a download link: they change nothing

    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("Any")),
            *[SelectChoice(s.value, s.label) for s in DonationState],
        ],
        default="",
        invalid_choice_message=BAD_CHOICE,
    )
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("", _l("Any")),
            *[SelectChoice(k.value, k.label) for k in DonationKind],
        ],
        default="",
        invalid_choice_message=BAD_CHOICE,
    )
    since = DateField(
        _l("Made on or after"), validators=[Optional()], invalid_value_message=BAD_DATE
    )
    until = DateField(
        _l("Made on or before"), validators=[Optional()], invalid_value_message=BAD_DATE
    )

    def filters(self) -> DonationFilters:
        """The chosen filters."""
        return DonationFilters(
            state=DonationState(self.state.data) if self.state.data else None,
            kind=DonationKind(self.kind.data) if self.kind.data else None,
            since=self.since.data,
            until=self.until.data,
        )
