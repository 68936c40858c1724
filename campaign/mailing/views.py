"""Public mailing-list pages: join, confirm, unsubscribe, preferences."""

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale

from campaign import abuse
from campaign.edge import validates_text
from campaign.extensions import csrf
from campaign.http_cache import public_page
from campaign.mailing import services
from campaign.mailing.forms import JOIN_WORDING, RETURN_WORDING, JoinForm
from campaign.origin import same_origin_form
from campaign.privacy.client_keys import client_key
from campaign.tokens import ExpiredLink, InvalidLink

bp = Blueprint("mailing", __name__)


def join_gate() -> abuse.Gate:
    """This request against the per-client sign-up limits (campaign/abuse.py)."""
    config = current_app.config
    limits = config["JOIN_RATE_LIMIT"], config["JOIN_HARD_RATE_LIMIT"]
    return abuse.gate("join", *limits, client_key(request.remote_addr))


def subscriber_or_404(token: str):
    """The subscriber an unsubscribe/preferences link names, or a 404 page."""
    subscriber = services.subscriber_by_token(token)
    if subscriber is None:
        abort(404)
    return subscriber


@bp.get("/join")
@public_page
def join_page():
    """The sign-up form on its own page."""
    return render_template("mailing/join.html", join_form=JoinForm())


@bp.post("/join")
@same_origin_form
@validates_text  # the form's own messages, beside what was typed
def join():
    """Take a sign-up; every outcome looks the same (double opt-in follows).

    Past the address's limit the form comes back with a proof-of-work
    challenge (429); a suspect request is refused (429, try later).
    """
    gate = join_gate()
    form = JoinForm()
    if gate is not abuse.Gate.OPEN:
        challenge = abuse.challenge_json() if gate is abuse.Gate.CHALLENGE else None
        return render_template(
            "mailing/join.html", join_form=form, over_limit=True, challenge=challenge
        ), 429
    if not form.validate_on_submit():
        return render_template("mailing/join.html", join_form=form), 400
    services.join_list(
        email=form.email.data,
        name=form.name.data,
        country=form.country.data,
        source=form.source.data,
        wording=str(JOIN_WORDING),
        locale=str(get_locale()),
    )
    return redirect(url_for("mailing.check_email"), 303)


@bp.get("/join/check-email")
@public_page
def check_email():
    """Ask the new subscriber to click the link we emailed."""
    return render_template("mailing/check_email.html")


@bp.get("/join/confirm/<token>")
def confirm(token: str):
    """Complete the double opt-in from the emailed link."""
    try:
        services.confirm_subscription(token)
    except ExpiredLink:
        return render_template("mailing/link_invalid.html", expired=True), 410
    except InvalidLink:
        return render_template("mailing/link_invalid.html", expired=False), 404
    # Redirect so the token leaves the address bar.
    return redirect(url_for("mailing.welcome"), 303)


@bp.get("/join/welcome")
@public_page
def welcome():
    """Thank a confirmed subscriber."""
    return render_template("mailing/welcome.html")


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """Ask before unsubscribing: mail scanners follow links, people press buttons."""
    return render_template(
        "mailing/unsubscribe.html", subscriber=subscriber_or_404(token), token=token
    )


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058 one-click: the token in the URL is the authority
def unsubscribe(token: str):
    """Unsubscribe at once (the mail client's one-click POST, or our button)."""
    subscriber = subscriber_or_404(token)
    services.unsubscribe(subscriber)
    return render_template(
        "mailing/unsubscribed.html", subscriber=subscriber, token=token
    )


@bp.route("/preferences/<token>", methods=["GET", "POST"])
@same_origin_form
def preferences(token: str):
    """Leave the list or come back to it."""
    subscriber = subscriber_or_404(token)
    status = 200
    if request.method == "POST":
        choice = request.form.get("choice")
        if choice == "leave":
            services.unsubscribe(subscriber)
        elif choice == "return":
            if not services.resubscribe(subscriber, str(RETURN_WORDING)):
                status = 409
        else:
            status = 400
    return render_template(
        "mailing/preferences.html",
        subscriber=subscriber,
        token=token,
        blocked=status == 409,
    ), status


@bp.app_context_processor
def mailing_context() -> dict:
    """What the sign-up form needs on any page that includes it."""
    return {
        "join_wording": JOIN_WORDING,
        "return_wording": RETURN_WORDING,
        "new_join_form": JoinForm,
    }
