"""Donate pages, and Stripe's webhook (the one form without a CSRF token)."""

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
)

from campaign import security
from campaign.donate import services, webhooks
from campaign.donate.forms import DonateForm
from campaign.donate.stripe_api import BadSignature, ProviderUnavailable
from campaign.edge import max_body, validates_text
from campaign.extensions import csrf
from campaign.http_cache import public_page
from campaign.origin import same_origin_form

bp = Blueprint("donate", __name__, url_prefix="/donate")
webhook_bp = Blueprint("stripe", __name__, url_prefix="/stripe")
csrf.exempt(webhook_bp)  # Stripe signs its deliveries instead
bp.add_app_template_global(services.money, "money")
# Stripe's events are larger than any form the site takes.
WEBHOOK_MAX_BYTES = 512 * 1024


def donate_form(**kwargs) -> DonateForm:
    """The donate form, offering the configured presets."""
    code = services.currency()
    presets = [
        (str(p), services.money(p * services.minor_per_major(code), code))
        for p in services.presets()
    ]
    return DonateForm(presets=presets, **kwargs)


def form_page(form: DonateForm, status: int = 200):
    """The donate page; its form may post on to Stripe Checkout."""
    code = services.currency()
    low, high = services.bounds()
    page = render_template(
        "donate/index.html",
        form=form,
        configured=services.is_configured(),
        purpose=current_app.config["DONATION_PURPOSE"],
        currency=code.upper(),
        low=services.money(low, code),
        high=services.money(high, code),
    )
    response = make_response(page, status)
    # Checkout is reached by the form's redirect, which CSP's form-action checks.
    origin = current_app.config["STRIPE_CHECKOUT_ORIGIN"]
    response.headers["Content-Security-Policy"] = security.csp(form_action=origin)
    return response


@bp.get("")
@public_page(remember=False)  # each view carries its own idempotency key
def index():
    """Where the support banner leads: choose an amount and how often."""
    source = "petition" if request.args.get("source") == "petition" else "banner"
    return form_page(donate_form(data={"source": source}))


@bp.post("/checkout")
@same_origin_form
@validates_text  # the form's own messages, beside what was typed
def checkout():
    """Send the donor to Stripe Checkout for the gift they chose."""
    form = donate_form()
    if not form.validate_on_submit():
        return form_page(form, 400)
    try:
        url = services.start_checkout(
            form.chosen_amount(),
            form.kind(),
            form.attempt.data,
            email=form.email.data or None,
            name=form.name.data or None,
            source=form.source.data,
            client_ip=request.remote_addr,
        )
    except services.NotConfigured:
        return form_page(form, 503)
    except services.AmountError as error:
        form.custom_amount.errors = [str(error)]
        return form_page(form, 400)
    except ProviderUnavailable:
        return render_template("donate/unavailable.html"), 503
    return redirect(url, 303)


@bp.get("/thanks")
@public_page
def thanks():
    """Back from Checkout: thanks, and the receipt follows once Stripe confirms."""
    return render_template("donate/thanks.html")


@bp.get("/cancelled")
@public_page
def cancelled():
    """Back from Checkout without paying: nothing was charged."""
    return render_template("donate/cancelled.html")


@bp.get("/manage/<token>")
def manage(token: str):
    """From a receipt: on to Stripe's portal to change or cancel a monthly gift."""
    try:
        url = services.portal_url(token)
    except services.ExpiredLink:
        return render_template("donate/link_invalid.html", expired=True), 410
    except services.InvalidLink:
        return render_template("donate/link_invalid.html", expired=False), 404
    except services.NotConfigured:
        return form_page(donate_form(), 503)
    except ProviderUnavailable:
        return render_template("donate/unavailable.html"), 503
    return redirect(url, 303)


@webhook_bp.post("/webhook")
@max_body(WEBHOOK_MAX_BYTES)
def webhook():
    """Stripe reports payments here; only this makes a donation real."""
    if not current_app.config["STRIPE_WEBHOOK_SECRET"]:
        return {"error": "Stripe webhooks are not configured on this site."}, 503
    try:
        outcome = webhooks.receive(
            request.get_data(), request.headers.get("Stripe-Signature")
        )
    except BadSignature:
        return {"error": "Not a Stripe event signed with our secret."}, 400
    except webhooks.MalformedEvent:
        return {"error": "A signed event whose fields could not be read."}, 400
    return {"received": outcome}
