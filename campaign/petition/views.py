"""Petition pages: show, sign, confirm, thank, count, stop updates."""

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale

from campaign import abuse
from campaign.edge import validates_text
from campaign.extensions import csrf
from campaign.http_cache import max_staleness, public_page
from campaign.i18n.numbers import format_number
from campaign.localised import page_locale
from campaign.origin import same_origin_form
from campaign.petition import services, updates
from campaign.petition.forms import SignForm
from campaign.petition.tokens import ExpiredLink, InvalidLink
from campaign.privacy.client_keys import client_key
from campaign.slugs import moved_or_404
from campaign.urls import external_url

bp = Blueprint("petition", __name__, url_prefix="/petitions")


def sign_gate(client: str | None) -> abuse.Gate:
    """This request against the per-client signing limits (campaign/abuse.py)."""
    config = current_app.config
    limits = config["SIGN_RATE_LIMIT"], config["SIGN_HARD_RATE_LIMIT"]
    return abuse.gate("sign", *limits, client)


def petition_or_404(slug: str) -> services.PublicPetition:
    """The public facts of the petition with this slug, or a 404 page (a
    draft's too: only organisers see it, at its preview)."""
    petition = services.public_petition(slug) or moved_or_404("petition", slug)
    if not petition.is_public:
        abort(404)
    return petition


def ref_or_404(slug: str) -> services.PetitionRef:
    """The cached facts of the petition with this slug, or a 404 page (a
    draft's too)."""
    petition = services.petition_ref(slug) or moved_or_404("petition", slug)
    if not petition.is_public:
        abort(404)
    return petition


def petition_panel(petition, form: SignForm | None = None) -> dict:
    """What any page showing a petition and its sign form needs."""
    count = services.public_count(petition.id)
    return {
        "petition": petition,
        "form": form or SignForm(),
        "count": count,
        "goal": petition.goal_at(count),  # fixed, or stepped up (goals.py)
        # Without JavaScript nothing refreshes the count of a cached page.
        "count_age": max_staleness() + current_app.config["COUNT_CACHE_SECONDS"],
        "signers": services.latest_public_signers(petition),
        "share_url": external_url("petition.show", slug=petition.slug),
    }


@bp.get("/<slug>")
@public_page
def show(slug: str):
    """The petition on its own page, and its updates (newest first)."""
    petition = petition_or_404(slug)
    return render_template(
        "petition/show.html",
        updates=updates.public_updates(petition.id, page_locale()),
        **petition_panel(petition),
    )


@bp.post("/<slug>/sign")
@same_origin_form
@validates_text  # the form's own messages, beside what was typed
def sign(slug: str):
    """Take a signature; every outcome that stores one looks the same.

    Past the address's limit the form comes back with a proof-of-work
    challenge (429); a suspect request is kept as fraudulent, answered like
    any other, or refused when KEEP_OVER_LIMIT_AS_FRAUDULENT is off.
    """
    petition = ref_or_404(slug)
    client = client_key(request.remote_addr)  # once: the limits and the row
    gate = sign_gate(client)
    form = SignForm()
    suspect = gate is abuse.Gate.SUSPECT
    if gate is abuse.Gate.CHALLENGE or (
        suspect and not current_app.config["KEEP_OVER_LIMIT_AS_FRAUDULENT"]
    ):
        panel = petition_panel(petition_or_404(slug), form)
        challenge = abuse.challenge_json() if not suspect else None
        return render_template(
            "petition/show.html", challenge=challenge, over_limit=True, **panel
        ), 429
    if not form.validate_on_submit():
        panel = petition_panel(petition_or_404(slug), form)
        return render_template("petition/show.html", **panel), 400
    try:
        services.sign_petition(
            petition,
            name=form.name.data,
            email=form.email.data,
            country=form.country.data,
            comment=form.comment.data,
            join_list=form.join_list.data,
            wants_updates=form.wants_updates.data,
            public=form.public.data,
            ip_key=client,
            locale=str(get_locale()),
            suspect=suspect,
        )
    except services.PetitionClosed:
        closed = petition_or_404(slug)  # named in the page's language
        return render_template("petition/closed.html", petition=closed), 409
    return redirect(url_for("petition.check_email", slug=slug), 303)


@bp.get("/<slug>/check-email")
@public_page
def check_email(slug: str):
    """Ask the signer to click the link we emailed."""
    return render_template("petition/check_email.html", petition=petition_or_404(slug))


@bp.get("/<slug>/confirm/<token>")
def confirm(slug: str, token: str):
    """Confirm a signature from the emailed link, then thank the signer."""
    petition = ref_or_404(slug)
    try:
        services.confirm_signature(token)
    except ExpiredLink:
        return render_template(
            "petition/link_invalid.html", petition=petition, expired=True
        ), 410
    except InvalidLink:
        return render_template(
            "petition/link_invalid.html", petition=petition, expired=False
        ), 404
    # Nothing about the signer rides along: anyone holding the link (a
    # forwarded email, a shared screen) sees only the thank-you page.
    # Redirect so the token leaves the address bar before anyone shares it.
    return redirect(url_for("petition.thanks", slug=slug), 303)


@bp.get("/<slug>/thanks")
@public_page
def thanks(slug: str):
    """Thank the signer and ask them to share and to give."""
    return render_template(
        "petition/thanks.html", **petition_panel(petition_or_404(slug))
    )


@bp.get("/<slug>/count.json")
@public_page
def count(slug: str):
    """The confirmed count and goal, cacheable by browsers and proxies; the
    count also as the page's language writes it (/ps/…: ۱٬۲۳۴), which browsers
    without that locale's data (Chromium has no Pashto) cannot do."""
    petition = ref_or_404(slug)
    count = services.public_count(petition.id)
    return jsonify(
        slug=petition.slug,
        count=count,
        count_text=format_number(count),
        goal=petition.goal_at(count),
    )


def signer_or_404(slug: str, token: str):
    """The petition and the signer a stop link names, or a 404 page."""
    petition = ref_or_404(slug)
    try:
        return petition, updates.signer_from_stop_link(petition.id, token)
    except InvalidLink:
        abort(404)


@bp.get("/<slug>/updates/stop/<token>")
def stop_updates_page(slug: str, token: str):
    """Ask before stopping: mail scanners follow links, people press buttons."""
    _, signature = signer_or_404(slug, token)
    return render_template(
        "petition/stop_updates.html",
        petition=petition_or_404(slug),
        token=token,
        stopped=not signature.wants_updates,
    )


@bp.post("/<slug>/updates/stop/<token>")
@csrf.exempt  # RFC 8058 one-click: the token in the URL is the authority
def stop_updates(slug: str, token: str):
    """Stop this petition's updates to this signer (one-click POST or button)."""
    _, signature = signer_or_404(slug, token)
    updates.stop_updates(signature)
    return render_template(
        "petition/updates_stopped.html", petition=petition_or_404(slug)
    )
