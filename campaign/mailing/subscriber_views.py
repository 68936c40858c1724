"""Organiser pages for the subscribers themselves: find, count, export, import.

Every route declares the role it needs (campaign/permissions.py).
"""

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from campaign.edge import accepts_files
from campaign.localised import language_name
from campaign.mailing import imports, subscribers
from campaign.mailing.forms import ImportForm, SubscriberFilterForm
from campaign.mailing.models import SubscriberState
from campaign.permissions import Role, requires
from campaign.petition.services import all_petitions, get_petition

bp = Blueprint("subscribers", __name__, url_prefix="/organiser/subscribers")


def filter_form() -> SubscriberFilterForm:
    """The filters from the query string, with today's choices offered."""
    form = SubscriberFilterForm(request.args)
    form.state.choices = [SelectChoice("", _("Any"))] + [
        SelectChoice(state.value, state.label) for state in SubscriberState
    ]
    form.source.choices = [SelectChoice("", _("Any"))] + [
        SelectChoice(source, source) for source in subscribers.sources()
    ]
    form.language.choices = [SelectChoice("", _("Any"))] + [
        SelectChoice(code, language_name(code))
        for code in current_app.config["LANGUAGES"]
    ]
    form.petition.choices = [SelectChoice("", _("Any or none"))] + [
        SelectChoice(petition.slug, petition.title) for petition in all_petitions()
    ]
    return form


def chosen(form: SubscriberFilterForm) -> subscribers.Filters:
    """The filters a valid form chose."""
    petition = get_petition(form.petition.data) if form.petition.data else None
    return subscribers.Filters(
        search=form.search.data or "",
        state=SubscriberState(form.state.data) if form.state.data else None,
        source=form.source.data or None,
        locale=form.language.data or None,
        country=form.country.data or None,
        petition_id=petition.id if petition else None,
    )


def query_without(*names: str) -> dict:
    """The page's query string less some keys (to build links)."""
    return {k: v for k, v in request.args.items() if k not in names and v}


@bp.get("")
@requires(Role.STAFF)
def index():
    """Search and filter the list, with counts per state and pages of 50."""
    form = filter_form()
    valid = form.validate()
    filters = chosen(form) if valid else subscribers.Filters()
    # The page's cursor: the id the previous page ended at (a bad one: page 1).
    before = request.args.get("before", type=int) if valid else None
    rows, next_before = subscribers.page(filters, before)
    return render_template(
        "mailing/organiser/subscribers.html",
        form=form,
        rows=rows,
        counts=subscribers.counts(filters),
        states=list(SubscriberState),
        next_before=next_before,
        query=query_without("before"),
        paged=bool(before),
        language_name=language_name,
    ), (200 if valid else 400)


@bp.get("/export.csv")
@requires(Role.STAFF)
def export():
    """Download the subscribers the filters show, as CSV, streamed and audited."""
    form = filter_form()
    if not form.validate():
        return {"errors": form.errors}, 400
    organiser = current_user._get_current_object()
    chunks = subscribers.SubscriberExport(chosen(form), organiser, "web")
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="subscribers.csv"'
    return response


@bp.route("/import", methods=["GET", "POST"])
@requires(Role.EDITOR)
@accepts_files("file")
def import_csv():
    """Add people from a CSV file; show which rows were refused and why."""
    form = ImportForm()
    report, status = None, 200
    if form.validate_on_submit():
        try:
            report = imports.import_subscribers(
                form.file.data.read(),
                form.name.data,
                form.wording.data,
                form.attested.data,
                current_user,
            )
        except imports.NotCsv as error:
            form.file.errors = [error.message]
            status = 400
    elif form.is_submitted():
        status = 400
    return render_template(
        "mailing/organiser/import.html",
        form=form,
        report=report,
        languages=", ".join(current_app.config["LANGUAGES"]),
    ), status
