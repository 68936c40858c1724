"""Organiser pages for data requests: find a supporter, hand over, erase."""

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    url_for,
)
from flask_babel import ngettext
from flask_login import current_user

from campaign.audit import audit
from campaign.forms import render_form
from campaign.i18n.numbers import format_number
from campaign.permissions import Role, requires
from campaign.privacy import services
from campaign.privacy.forms import SupporterForm

bp = Blueprint("privacy", __name__, url_prefix="/organiser/supporters")


@bp.route("", methods=["GET", "POST"])
@requires(Role.STAFF)
def supporters():
    """Find everything held about a supporter (the email never goes in a URL)."""
    form = SupporterForm()
    found = None
    if form.validate_on_submit():
        found = services.supporter_signatures(form.email.data)
    return render_form("privacy/supporters.html", form, signatures=found)


@bp.post("/export")
@requires(Role.STAFF)
def export_supporter():
    """Everything held about a supporter, as a JSON download."""
    form = SupporterForm()
    if not form.validate():
        abort(400)
    data = services.supporter_record(form.email.data)
    audit(current_user, "export-supporter", "data request", 1)
    response = jsonify(data)
    response.headers["Content-Disposition"] = 'attachment; filename="supporter.json"'
    return response


@bp.post("/erase")
@requires(Role.ADMIN)
def erase_supporter():
    """Erase everything held about a supporter."""
    form = SupporterForm()
    if not form.validate():
        abort(400)
    erased = services.erase_supporter(form.email.data, current_user)
    flash(
        ngettext(
            "Erased %(count)s signature.",
            "Erased %(count)s signatures.",
            erased,
            count=format_number(erased),
        )
    )
    return redirect(url_for("privacy.supporters"))
