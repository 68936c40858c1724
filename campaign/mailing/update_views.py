"""Organiser pages for petition updates: write and post one, see them, and
email one to the signers who asked, after a page showing how many that is.

Every route declares the role it needs (campaign/permissions.py). They live
here, not in petition/, because features depend one way (mailing → petition):
posting is the petition's (petition/updates.py), emailing the broadcast
engine's (signer_updates.py), and only these pages need both.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from kombu.exceptions import OperationalError as QueueUnavailable

from campaign.forms import render_form
from campaign.localised import lang_and_dir, language_name, other_languages
from campaign.mailing import broadcasts
from campaign.mailing.signer_updates import email_update
from campaign.mailing.update_audience import update_reach
from campaign.permissions import Role, requires
from campaign.petition import services, updates
from campaign.petition.forms import update_form
from campaign.tasks import delay

bp = Blueprint(
    "petition_updates", __name__, url_prefix="/organiser/petitions/<slug>/updates"
)


def petition_or_404(slug: str):
    """The petition with this slug, or a 404 page."""
    return services.get_petition(slug) or abort(404)


def update_or_404(petition, update_id: int):
    """The petition's update with this id, or a 404 page."""
    return updates.get_update(petition, update_id) or abort(404)


@bp.get("/")
@requires(Role.STAFF)
def index(slug: str):
    """A petition's updates, newest first, and how many would get the next."""
    petition = petition_or_404(slug)
    return render_template(
        "petition/organiser/updates.html",
        petition=petition,
        updates=updates.updates_of(petition.id),
        reach=update_reach(petition.id),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.EDITOR)
def new(slug: str):
    """Write an update and post it on the petition's page."""
    petition = petition_or_404(slug)
    form = update_form(other_languages())
    if form.validate_on_submit():
        posted = updates.post_update(
            petition,
            current_user,
            form.title.data,
            form.body_markdown.data,
            form.version_data(),
        )
        flash(_("The update is on the petition's page."))
        return redirect(
            url_for("petition_updates.show", slug=slug, update_id=posted.id)
        )
    return render_form("petition/organiser/update_edit.html", form, petition=petition)


def versions_shown(update) -> list[dict]:
    """The update in each language it has: English first."""
    shown = [{"locale": "en", "title": update.title, "html": update.body_html}]
    shown += [
        {"locale": v.locale, "title": v.title, "html": v.body_html}
        for v in update.versions
    ]
    for version in shown:
        version["language"] = language_name(version["locale"])
        version["attributes"] = lang_and_dir(version["locale"])
    return shown


@bp.get("/<int:update_id>")
@requires(Role.STAFF)
def show(slug: str, update_id: int):
    """One update: its text in each language, and its emailing's progress."""
    petition = petition_or_404(slug)
    update = update_or_404(petition, update_id)
    broadcast = (
        broadcasts.get_broadcast(update.broadcast_id) if update.broadcast_id else None
    )
    return render_template(
        "petition/organiser/update.html",
        petition=petition,
        update=update,
        versions=versions_shown(update),
        broadcast=broadcast,
        status=broadcasts.status(broadcast) if broadcast else None,
        reach=None if broadcast else update_reach(petition.id),
    )


@bp.get("/<int:update_id>/email")
@requires(Role.EDITOR)
def confirm_email(slug: str, update_id: int):
    """Ask before emailing, saying how many people it would reach."""
    petition = petition_or_404(slug)
    update = update_or_404(petition, update_id)
    if update.broadcast_id:
        return redirect(
            url_for("petition_updates.show", slug=slug, update_id=update_id)
        )
    return render_template(
        "petition/organiser/update_email.html",
        petition=petition,
        update=update,
        reach=update_reach(petition.id),
    )


@bp.post("/<int:update_id>/email")
@requires(Role.EDITOR)
def email(slug: str, update_id: int):
    """Email the update to the signers who asked for it (once)."""
    from campaign.mailing.tasks import send_broadcast  # Celery, on first use

    petition = petition_or_404(slug)
    update = update_or_404(petition, update_id)
    broadcast = email_update(update, current_user)
    if broadcast is None:
        flash(_("This update has already been emailed."))
    else:
        try:
            delay(send_broadcast, broadcast.id)
        except QueueUnavailable:
            flash(_("The task queue is unreachable; the worker will pick this up."))
        flash(_("Sending has started."))
    return redirect(url_for("petition_updates.show", slug=slug, update_id=update_id))
