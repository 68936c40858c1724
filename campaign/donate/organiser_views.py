"""Organiser pages for donations: totals, a chart, the latest gifts, CSV export."""

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user

from campaign.donate import reports
from campaign.donate.forms import DonationFilterForm
from campaign.donate.services import currency, is_configured
from campaign.permissions import Role, requires

bp = Blueprint("donate_organiser", __name__, url_prefix="/organiser")


@bp.get("/donations")
@requires(Role.STAFF)
def overview():
    """Totals, money received per day, and the latest donations."""
    form = DonationFilterForm(request.args)
    valid = form.validate()
    filters = form.filters() if valid else reports.DonationFilters()
    page = render_template(
        "donate/organiser/donations.html",
        form=form,
        configured=is_configured(),
        currency=currency().upper(),
        totals=reports.totals(),
        per_day=reports.received_per_day(),
        rows=reports.latest(filters),
        limit=reports.LIST_LIMIT,
    )
    return page, 200 if valid else 400


@bp.get("/donations.csv")
@requires(Role.STAFF)
def export():
    """Download donations as CSV, streamed and audited."""
    form = DonationFilterForm(request.args)
    if not form.validate():
        return {"errors": form.errors}, 400
    organiser = current_user._get_current_object()
    chunks = reports.DonationExport(form.filters(), organiser, "web")
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="donations.csv"'
    return response
