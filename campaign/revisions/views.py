"""Organiser pages for content history: the versions of a story or petition,
and each version compared with the one before it (staff may read them)."""

from flask import Blueprint, abort, render_template

from campaign.localised import lang_and_dir, language_name
from campaign.permissions import Role, requires
from campaign.revisions import services
from campaign.revisions.models import KINDS

bp = Blueprint("revisions", __name__, url_prefix="/organiser/history")


@bp.get("/<kind>/<int:object_id>")
@requires(Role.STAFF)
def history(kind: str, object_id: int):
    """Who saved which version of one story or petition, and when."""
    if kind not in KINDS:
        abort(404)
    return render_template(
        "revisions/history.html",
        kind=kind,
        kind_label=KINDS[kind],
        object_id=object_id,
        entries=services.history(kind, object_id),
        language_name=language_name,
    )


@bp.get("/revision/<int:revision_id>")
@requires(Role.STAFF)
def compare(revision_id: int):
    """One version beside the one saved before it, field by field."""
    revision = services.get_revision(revision_id) or abort(404)
    return render_template(
        "revisions/compare.html",
        comparison=services.compare(revision),
        language_name=language_name,
        text_attributes=lang_and_dir(revision.locale),
    )
