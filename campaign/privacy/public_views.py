"""Supporters' own pages, reached from links in their emails: withdraw a
signature; a copy of their data or its erasure (see self_service.py).

The forms are protected as the site's other public forms are
(campaign/origin.py): the link's token is the authority, and a POST from
another site's page is refused. No page here shows a name or an email.
"""

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _

from campaign.extensions import limiter
from campaign.origin import same_origin_form
from campaign.petition.services import public_petition
from campaign.privacy import self_service
from campaign.privacy.self_service import ExpiredLink, Gone, InvalidLink

bp = Blueprint("self_service", __name__, url_prefix="/your-data")


def link_invalid(error: InvalidLink):
    """The page for a link that is not ours (404) or too old (410)."""
    expired = isinstance(error, ExpiredLink)
    page = render_template("privacy/link_invalid.html", expired=expired)
    return page, 410 if expired else 404


@bp.route("/withdraw/<token>", methods=["GET", "POST"])
@same_origin_form
def withdraw(token: str):
    """Ask, then withdraw a signature (GET only asks: mail scanners follow links)."""
    try:
        if request.method == "POST":
            slug = self_service.withdraw(token)
            return render_template(
                "privacy/withdrawn.html", petition=public_petition(slug)
            )
        signature = self_service.signature_to_withdraw(token)
    except Gone:
        return render_template("privacy/withdrawn.html", petition=None, before=True)
    except InvalidLink as error:
        return link_invalid(error)
    return render_template(
        "privacy/withdraw.html",
        petition=public_petition(signature.petition.slug),
        token=token,
    )


def per_link() -> str:
    """The rate-limit bucket of the data link a request came with."""
    return "your-data:" + (request.view_args or {}).get("token", "")


def emails_per_link() -> str:
    """How many confirmation emails one data link may ask for."""
    return current_app.config["SELF_SERVICE_RATE_LIMIT"]


def enough_emails() -> str:
    """What a link past its limit is told."""
    return _(
        "This link has already asked for several emails. Look for them in "
        "your inbox (and spam folder), or try again later."
    )


@bp.route("/<kind>/<token>", methods=["GET", "POST"])
@same_origin_form
@limiter.limit(
    emails_per_link, methods=["POST"], key_func=per_link, error_message=enough_emails
)
def your_data(kind: str, token: str):
    """Offer a copy of the data or its erasure; either is confirmed by email."""
    try:
        holder = self_service.holder_from_data_link(kind, token)
    except Gone:
        return render_template("privacy/nothing_held.html")
    except InvalidLink as error:
        return link_invalid(error)
    if request.method == "POST":
        action = request.form.get("action")
        if action not in self_service.ACTIONS:
            abort(400)
        self_service.request_action(holder, action)
        return render_template("privacy/check_email.html", action=action)
    return render_template("privacy/your_data.html", kind=kind, token=token)


@bp.route("/confirm/<action>/<kind>/<token>", methods=["GET", "POST"])
@same_origin_form
def confirm_action(action: str, kind: str, token: str):
    """Ask, then send the copy or erase everything, from the emailed link."""
    try:
        holder = self_service.holder_from_action_link(action, kind, token)
    except Gone:
        return render_template("privacy/nothing_held.html")
    except InvalidLink as error:
        return link_invalid(error)
    if request.method == "GET":
        return render_template(
            "privacy/confirm.html", action=action, kind=kind, token=token
        )
    if action == "copy":
        self_service.send_copy(holder)
    else:
        self_service.erase(holder)
    return render_template("privacy/done.html", action=action)
