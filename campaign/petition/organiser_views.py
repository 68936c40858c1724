"""Organiser pages for petitions: dashboard, detail, create, edit in every
language, preview, change of state, exports, print, moderation.

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
    stream_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from campaign.audit import audit
from campaign.forms import render_form
from campaign.i18n.numbers import format_number
from campaign.localised import ORIGINAL, other_languages
from campaign.permissions import Role, requires
from campaign.petition import lifecycle, moderation, services
from campaign.petition.exports import SignatureExport
from campaign.petition.forms import (
    ExportForm,
    NewPetitionForm,
    SelectionForm,
    edit_form_class,
    edit_form_data,
)
from campaign.petition.stats import petition_stats
from campaign.petition.views import petition_panel
from campaign.text import render_markdown

bp = Blueprint("petition_organiser", __name__, url_prefix="/organiser")


def petition_or_404(slug: str):
    """The petition with this slug, or a 404 page."""
    return services.get_petition(slug) or abort(404)


@bp.get("/")
@requires(Role.STAFF)
def dashboard():
    """Every petition at a glance."""
    rows = [(found, petition_stats(found)) for found in services.all_petitions()]
    return render_template("petition/organiser/dashboard.html", rows=rows)


@bp.get("/petitions/<slug>")
@requires(Role.STAFF)
def petition(slug: str):
    """One petition in detail: counts, chart, countries, latest signatures."""
    found = petition_or_404(slug)
    return render_template(
        "petition/organiser/petition.html",
        petition=found,
        stats=petition_stats(found),
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
        signers=moderation.confirmed_signers(found),
    )
    return Response(stream_with_context(page))


@bp.route("/petitions/<slug>/moderate", methods=["GET", "POST"])
@requires(Role.STAFF)
def moderate(slug: str):
    """Invalidate signatures in bulk, after seeing how many will change."""
    found = petition_or_404(slug)
    form = SelectionForm()
    count = None
    if form.validate_on_submit():
        if form.confirm.data:
            changed = moderation.invalidate(found, form.selection(), current_user)
            flash(
                ngettext(
                    "%(count)s signature invalidated.",
                    "%(count)s signatures invalidated.",
                    changed,
                    count=format_number(changed),
                )
            )
            return redirect(url_for("petition_organiser.petition", slug=slug))
        count = moderation.preview(found, form.selection())
    return render_form(
        "petition/organiser/moderate.html",
        form,
        petition=found,
        count=count,
        comments=moderation.public_comments(found),
    )


# What an organiser may do to one signature, and the page to go back to.
SIGNATURE_ACTIONS = {
    "invalidate": (moderation.invalidate_one, "petition_organiser.petition"),
    "hide": (moderation.hide_public, "petition_organiser.petition"),
    "hide-comment": (moderation.hide_comment, "petition_organiser.moderate"),
}


@bp.post("/signatures/<int:signature_id>/<action>")
@requires(Role.STAFF)
def signature_action(signature_id: int, action: str):
    """Invalidate one signature, or stop showing its name or its comment."""
    signature = moderation.get_signature(signature_id) or abort(404)
    if action not in SIGNATURE_ACTIONS:
        abort(404)
    act, back_to = SIGNATURE_ACTIONS[action]
    act(signature, current_user)
    flash(_("Done."))
    return redirect(url_for(back_to, slug=signature.petition.slug))
