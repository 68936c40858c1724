"""Organiser pages for donations, on the organiser blueprint.

Imported at the end of views.py (Flask's pattern for splitting one blueprint's
views over modules), so every route here is an ``organiser.*`` endpoint.
"""

from flask import Response, render_template, request, stream_with_context
from flask_login import current_user, login_required

from campaign.donate.services import currency, is_configured
from campaign.organiser import donations
from campaign.organiser.forms import DonationFilterForm
from campaign.organiser.views import bp


@bp.get("/donations")
@login_required
def donations_overview():
    """Totals, money received per day, and the latest donations."""
    form = DonationFilterForm(request.args)
    valid = form.validate()
    filters = form.filters() if valid else donations.DonationFilters()
    page = render_template(
        "organiser/donations.html",
        form=form,
        configured=is_configured(),
        currency=currency().upper(),
        totals=donations.totals(),
        per_day=donations.received_per_day(),
        rows=donations.latest(filters),
        limit=donations.LIST_LIMIT,
    )
    return page, 200 if valid else 400


@bp.get("/donations.csv")
@login_required
def export_donations():
    """Download donations as CSV, streamed and audited."""
    form = DonationFilterForm(request.args)
    if not form.validate():
        return {"errors": form.errors}, 400
    organiser = current_user._get_current_object()
    chunks = donations.DonationExport(form.filters(), organiser, "web")
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="donations.csv"'
    return response
