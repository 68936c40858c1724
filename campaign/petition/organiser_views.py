"""Organiser pages for petitions: dashboard, detail, create, edit in every
language, preview, change of state, exports, print, moderation (with undo)
and the PDF for decision-makers.

Every route declares the role it needs (campaign/permissions.py).
"""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_template,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from campaign.audit import audit
from campaign.forms import render_form
from campaign.i18n.numbers import format_number
from campaign.localised import ORIGINAL, other_languages
from campaign.permissions import Role, requires
from campaign.petition import delivery, lifecycle, moderation, services, trends
from campaign.petition.exports import SignatureExport
from campaign.petition.forms import (
    ExportForm,
    NewPetitionForm,
    SelectionForm,
    edit_form_class,
    edit_form_data,
)
from campaign.petition.models import PdfState
from campaign.petition.stats import petition_stats
from campaign.petition.views import petition_panel
from campaign.slugs import moved_or_404
from campaign.tasks import delay
from campaign.text import render_markdown

bp = Blueprint("petition_organiser", __name__, url_prefix="/organiser")


def petition_or_404(slug: str):
    """The petition with this slug (its old slugs lead on to it), or a 404."""
    return services.get_petition(slug) or moved_or_404("petition", slug)


@bp.get("/")
@requires(Role.STAFF)
def dashboard():
    """Every petition at a glance."""
    rows = [(found, petition_stats(found)) for found in services.all_petitions()]
    return render_template("petition/organiser/dashboard.html", rows=rows)


@bp.get("/petitions/<slug>")
@requires(Role.STAFF)
def petition(slug: str):
    """One petition in detail: counts, chart, countries, trending addresses,
    latest signatures."""
    found = petition_or_404(slug)
    return render_template(
        "petition/organiser/petition.html",
        petition=found,
        stats=petition_stats(found),
        trends=trends.trends(found),
        export_form=ExportForm(formdata=None),
    )


@bp.get("/petitions/<slug>/signatures.csv")
@requires(Role.STAFF)
def export_signatures(slug: str):
    """Download the petition's signatures as CSV, streamed and audited."""
    found = petition_or_404(slug)
    form = ExportForm(request.args)
    if not form.validate():
        return {"errors": form.errors}, 400
    organiser = current_user._get_current_object()
    chunks = SignatureExport(found, form.filters(), organiser, "web")
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{slug}-signatures.csv"'
    )
    return response


@bp.route("/petitions/new", methods=["GET", "POST"])
@requires(Role.EDITOR)
def new_petition():
    """Start a petition: it is a draft until published."""
    form = NewPetitionForm()
    if form.validate_on_submit():
        try:
            created = lifecycle.create_petition(current_user, **form.fields())
        except services.SlugTaken as taken:
            form.slug.errors.append(slug_taken_message(taken.suggestion))
        else:
            flash(_("The petition is saved as a draft: only organisers see it."))
            return redirect(url_for("petition_organiser.petition", slug=created.slug))
    return render_form("petition/organiser/new.html", form)


@bp.route("/petitions/<slug>/edit", methods=["GET", "POST"])
@requires(Role.EDITOR)
def edit_petition(slug: str):
    """Change a petition's words in each language, its goal or its story;
    "Preview" shows the texts as the public would see them, saving nothing."""
    found = petition_or_404(slug)
    versions = services.translations_of(found)
    form = edit_form_class(tuple(other_languages()))(
        data=edit_form_data(found, versions)
    )
    previews = None
    if form.validate_on_submit():
        if "preview" in request.form:
            previews = text_previews(form)
        else:
            try:
                services.update_petition(
                    found, current_user, form.translations(), **form.fields()
                )
            except services.SlugTaken as taken:
                form.slug.errors.append(slug_taken_message(taken.suggestion))
            else:
                flash(_("The petition is saved."))
                return redirect(url_for("petition_organiser.petition", slug=found.slug))
    return render_form(
        "petition/organiser/edit.html", form, petition=found, previews=previews
    )


def slug_taken_message(suggestion: str) -> str:
    """Why a chosen slug was refused, with one that is free."""
    return _(
        "Another petition uses this address, or used it before. Try %(suggestion)s.",
        suggestion=suggestion,
    )


def text_previews(form) -> dict[str, str]:
    """Each language's text rendered as the public page would (sanitised),
    by locale; a language left empty has none."""
    texts = {ORIGINAL: form.body_markdown.data}
    texts |= {
        locale: words["body_markdown"] for locale, words in form.translations().items()
    }
    return {locale: render_markdown(text) for locale, text in texts.items() if text}


@bp.get("/petitions/<slug>/preview")
@requires(Role.STAFF)
def preview_petition(slug: str):
    """The petition's public page as it is or will be, drafts included."""
    found = services.preview_petition(petition_or_404(slug))
    return render_template("petition/show.html", preview=True, **petition_panel(found))


# Each change of state and the service that makes it (close and archive
# answer GET with a page that asks first; the others are buttons).
TRANSITIONS = {
    "publish": lifecycle.publish_petition,
    "close": lifecycle.close_petition,
    "reopen": lifecycle.reopen_petition,
    "archive": lifecycle.archive_petition,
}
DONE = {
    "publish": _l("The petition is public and takes signatures."),
    "close": _l("The petition is closed: its page stays, with its final count."),
    "reopen": _l("The petition takes signatures again."),
    "archive": _l("The petition is archived: its page stays, with its final count."),
}


def change_state(slug: str, transition: str):
    """Ask first (GET, for the transitions that do) or make the change (POST)."""
    found = petition_or_404(slug)
    if request.method == "GET":  # only the transitions that ask first
        return render_template(
            "petition/organiser/confirm_state.html",
            petition=found,
            transition=transition,
            count=services.confirmed_count(found.id),
        )
    try:
        TRANSITIONS[transition](found, current_user)
    except lifecycle.TransitionRefused:
        state = found.state.label
        flash(_("Nothing changed: the petition is %(state)s now.", state=state))
        return redirect(url_for("petition_organiser.petition", slug=slug), 303)
    flash(str(DONE[transition]))
    return redirect(url_for("petition_organiser.petition", slug=slug), 303)


@bp.post("/petitions/<slug>/publish")
@requires(Role.EDITOR)
def publish(slug: str):
    """Publish a draft: it goes public and takes signatures."""
    return change_state(slug, "publish")


@bp.route("/petitions/<slug>/close", methods=["GET", "POST"])
@requires(Role.EDITOR)
def close(slug: str):
    """Close an open petition, after a page that asks first."""
    return change_state(slug, "close")


@bp.post("/petitions/<slug>/reopen")
@requires(Role.EDITOR)
def reopen(slug: str):
    """Reopen a closed petition."""
    return change_state(slug, "reopen")


@bp.route("/petitions/<slug>/archive", methods=["GET", "POST"])
@requires(Role.EDITOR)
def archive(slug: str):
    """Archive a closed petition, after a page that asks first."""
    return change_state(slug, "archive")


@bp.get("/petitions/<slug>/print")
@requires(Role.STAFF)
def print_petition(slug: str):
    """The petition, its count and its signers, laid out for paper or PDF."""
    found = petition_or_404(slug)
    audit(current_user, "print-signatures", slug)
    page = stream_template(
        "petition/organiser/print.html",
        petition=found,
        count=services.confirmed_count(found.id),
        deleted=delivery.anonymised_count(found),
        signers=moderation.confirmed_signers(found),
    )
    return Response(stream_with_context(page))


@bp.route("/petitions/<slug>/moderate", methods=["GET", "POST"])
@requires(Role.STAFF)
def moderate(slug: str):
    """Invalidate or restore signatures in bulk, after seeing which will
    change; review public comments and what was taken off or hidden."""
    found = petition_or_404(slug)
    # The dashboard's trending lists link here with their criterion filled in.
    form = SelectionForm(data=SelectionForm.prefill(request.args))
    shown = request.args.get("list", "")
    if shown not in moderation.LISTS:
        shown = ""  # the public comments
    previewed = None
    if form.validate_on_submit():
        fingerprint = f"{form.mode.data} {form.selection().describe()}"
        # Only the selection just previewed is acted on: changing a criterion
        # (or the mode) after the preview shows the new preview first.
        if form.confirm.data and form.previewed.data == fingerprint:
            return apply_bulk(found, form)
        previewed = moderation.preview(found, form.selection(), form.restoring)
        form.previewed.data = fingerprint
        form.confirm.data = False
    return render_form(
        "petition/organiser/moderate.html",
        form,
        petition=found,
        preview=previewed,
        shown=shown,
        comments=moderation.public_comments(found) if not shown else [],
        moderated=moderation.moderated(found, shown) if shown else [],
    )


def apply_bulk(petition, form: SelectionForm):
    """Invalidate or restore the confirmed selection; offer "Undo"."""
    if form.restoring:
        changed = moderation.restore(petition, form.selection(), current_user)
        message = ngettext(
            "%(count)s signature restored.",
            "%(count)s signatures restored.",
            changed,
            count=format_number(changed),
        )
    else:
        changed, key = moderation.invalidate(petition, form.selection(), current_user)
        offer_undo(petition, {"action": "invalidate", "key": key, "count": changed})
        message = ngettext(
            "%(count)s signature invalidated.",
            "%(count)s signatures invalidated.",
            changed,
            count=format_number(changed),
        )
    flash(message)
    return redirect(url_for("petition_organiser.moderate", slug=petition.slug))


# The session key of the last moderation action "Undo" can take back.
UNDO = "moderation_undo"


def offer_undo(petition, what: dict | None) -> None:
    """Remember the organiser's last action, for the Undo button."""
    if what is None:
        session.pop(UNDO, None)
    else:
        session[UNDO] = {**what, "slug": petition.slug}


@bp.post("/petitions/<slug>/undo")
@requires(Role.STAFF)
def undo(slug: str):
    """Take back the organiser's last invalidation or hiding on this petition."""
    found = petition_or_404(slug)
    last = session.get(UNDO)
    back = url_for("petition_organiser.moderate", slug=slug)
    if not last or last.get("slug") != slug:
        flash(_("There is nothing to undo."))
        return redirect(back)
    session.pop(UNDO)
    changed = moderation.undo(found, last, current_user)
    if last["action"] == "invalidate":
        flash(
            ngettext(
                "Undone: %(count)s signature restored.",
                "Undone: %(count)s signatures restored.",
                changed,
                count=format_number(changed),
            )
        )
    else:
        flash(_("Undone."))
    return redirect(back)


# The page to go back to after an action on one signature.
BACK_TO = {
    "invalidate": "petition_organiser.petition",
    "hide": "petition_organiser.petition",
}


@bp.post("/signatures/<int:signature_id>/<action>")
@requires(Role.STAFF)
def signature_action(signature_id: int, action: str):
    """Invalidate or restore one signature, hide or show again its name or comment."""
    signature = moderation.get_signature(signature_id) or abort(404)
    if action not in moderation.ACTIONS:
        abort(404)
    done = moderation.act(signature, action, current_user)
    offer_undo(signature.petition, done.undo)
    flash(_("Done."))
    back_to = BACK_TO.get(action, "petition_organiser.moderate")
    return redirect(url_for(back_to, slug=signature.petition.slug))


@bp.get("/petitions/<slug>/signatures.pdf")
@requires(Role.STAFF)
def pdf(slug: str):
    """The petition PDF for decision-makers: downloaded at once when small,
    else a page offering to make it in the background."""
    found = petition_or_404(slug)
    if not delivery.inline(found):
        return render_template("petition/organiser/pdf_large.html", petition=found)
    content = delivery.make_now(found, current_user, str(get_locale()))
    return pdf_response(content, slug)


def pdf_response(content: bytes, slug: str) -> Response:
    """A PDF as a download."""
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{slug}-petition.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/petitions/<slug>/signatures.pdf")
@requires(Role.STAFF)
def start_pdf(slug: str):
    """Queue the petition PDF for a worker; show its progress."""
    found = petition_or_404(slug)
    # Imported here: Celery (and kombu) load on first use, not at start-up.
    from kombu.exceptions import OperationalError as QueueUnavailable

    from campaign.petition.tasks import make_petition_pdf

    job = delivery.start_job(found, current_user, str(get_locale()))
    try:
        delay(make_petition_pdf, job.id)
    except QueueUnavailable:
        flash(_("The task queue is unreachable; the worker will pick this up."))
    return redirect(url_for("petition_organiser.pdf_progress", key=job.key))


def job_or_404(key: str):
    """The PDF job with this key (and not yet deleted), or a 404 page."""
    return delivery.get_job(key) or abort(404)


@bp.get("/pdfs/<key>")
@requires(Role.STAFF)
def pdf_progress(key: str):
    """How a background PDF is coming on; refreshes itself until it is ready."""
    job = job_or_404(key)
    waiting = job.state in (PdfState.QUEUED, PdfState.WORKING)
    return render_template(
        "petition/organiser/pdf_progress.html",
        job=job,
        refreshing=waiting and request.args.get("refresh") != "off",
    )


@bp.get("/pdfs/<key>/download")
@requires(Role.STAFF)
def pdf_download(key: str):
    """A finished background PDF (the progress page until it is finished)."""
    job = job_or_404(key)
    content = delivery.job_content(job) if job.state is PdfState.DONE else None
    if content is None:
        return redirect(url_for("petition_organiser.pdf_progress", key=key))
    return pdf_response(content, job.petition.slug)
