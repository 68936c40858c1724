"""A donor's data on request, and its erasure.

Erasure blanks the donor's name and email on their donations and monthly
gifts but keeps the amounts, dates and Stripe ids: the organisation's
accounts need them, and they say nothing about the person without Stripe.
What Stripe holds is erased in Stripe's dashboard (see the README).
"""

import sqlalchemy as sa

from campaign.donate.models import Donation, MonthlyGift
from campaign.extensions import db


def _matching(model, email: str):
    """Rows of a model held for this address (stored lower-cased)."""
    return sa.select(model).where(model.email == email.strip().lower())


def donor_record(email: str) -> dict:
    """Everything held about a donor, ready to hand over as JSON."""
    donations = db.session.scalars(_matching(Donation, email).order_by(Donation.id))
    gifts = db.session.scalars(_matching(MonthlyGift, email).order_by(MonthlyGift.id))
    return {
        "donations": [
            {
                "kind": d.kind.value,
                "state": d.state.value,
                "amount_minor_units": d.amount,
                "refunded_minor_units": d.refunded_amount,
                "currency": d.currency,
                "name": d.name,
                "email": d.email,
                "paid_at": d.paid_at.isoformat() if d.paid_at else None,
                "stripe_payment": d.payment_intent_id or d.invoice_id,
            }
            for d in donations
        ],
        "monthly_gifts": [
            {
                "state": g.state.value,
                "amount_minor_units": g.amount,
                "currency": g.currency,
                "name": g.name,
                "email": g.email,
                "stripe_subscription": g.subscription_id,
            }
            for g in gifts
        ],
    }


def forget_donor(email: str) -> int:
    """Blank a donor's name and email everywhere (uncommitted); return the rows."""
    changed = 0
    for model in (Donation, MonthlyGift):
        changed += db.session.execute(
            sa.update(model)
            .where(model.email == email.strip().lower())
            .values(email=None, name=None)
            .execution_options(synchronize_session=False)
        ).rowcount
    return changed
