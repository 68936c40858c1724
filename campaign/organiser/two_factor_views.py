"""Organiser pages for two-factor sign-in (the code step, enrolment, turning
it off) and the site settings that can require it, on the organiser blueprint.

Imported at the end of views.py, so every route here is an ``organiser.*``
endpoint.
"""

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaign.organiser import services, settings, sign_in, two_factor
from campaign.organiser.forms import CodeForm, SettingsForm
from campaign.organiser.views import bp
from campaign.permissions import Role, public, requires


def wrong_code() -> str:
    """The one message for a wrong, old or reused code."""
    return _("That code is not right, or it has been used already.")


def signed_in_account() -> str:
    """Code attempts of a signed-in organiser: a rate-limit bucket per account."""
    return f"two-factor:{getattr(current_user, 'id', 'none')}"


@bp.route("/login/code", methods=["GET", "POST"])
@public
@sign_in.limit_failures(sign_in.pending_account, sign_in.device_knows_pending)
def login_code():
    """The second sign-in step: a code from the app, or a recovery code."""
    organiser = sign_in.pending_organiser()
    if organiser is None:
        flash(_("Please sign in again: the code step has expired."))
        return redirect(url_for("organiser.login"))
    form = CodeForm()
    if form.validate_on_submit():
        if services.check_sign_in_code(organiser, form.code.data):
            return sign_in.finish(organiser, session[sign_in.PENDING]["next"])
        form.code.errors.append(wrong_code())
    status = 400 if form.errors else 200
    return render_template("organiser/login_code.html", form=form), status


def enrolment_page(form: CodeForm | None = None, status: int = 200):
    """The two-factor page: enrolment with secret and QR, or turning it off."""
    account = current_user._get_current_object()
    context = {
        "form": form or CodeForm(formdata=None),
        "required": settings.two_factor_required(),
    }
    if account.two_factor_on:
        context["codes_left"] = two_factor.recovery_codes_left(account)
    else:
        context["secret"] = two_factor.start_enrolment(account)
        context["qr"] = two_factor.qr_svg(account)
    return render_template("organiser/two_factor.html", **context), status


@bp.get("/two-factor", endpoint="two_factor")
@requires(Role.STAFF)
def two_factor_page():
    """Set up two-factor sign-in, or see its state and turn it off."""
    return enrolment_page()


@bp.post("/two-factor/enable")
@requires(Role.STAFF)
@sign_in.limit_failures(signed_in_account)
def two_factor_enable():
    """Confirm enrolment with a first code; show the recovery codes once."""
    form = CodeForm()
    if form.validate_on_submit():
        codes = services.confirm_two_factor(current_user, form.code.data)
        if codes:
            return render_template("organiser/recovery_codes.html", codes=codes)
        form.code.errors.append(wrong_code())
    return enrolment_page(form, 400)


@bp.post("/two-factor/disable")
@requires(Role.STAFF)
@sign_in.limit_failures(signed_in_account)
def two_factor_disable():
    """Turn two-factor off (a code proves it is the organiser asking)."""
    form = CodeForm()
    if settings.two_factor_required():
        flash(_("Two-factor sign-in is required for every organiser here."))
        return redirect(url_for("organiser.two_factor"))
    if form.validate_on_submit():
        if services.turn_off_two_factor(current_user, form.code.data):
            flash(_("Two-factor sign-in is off."))
            return redirect(url_for("organiser.two_factor"))
        form.code.errors.append(wrong_code())
    return enrolment_page(form, 400)


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
@requires(Role.ADMIN)
def edit_settings():
    """Admins change site-wide settings (today: requiring two-factor)."""
    form = SettingsForm(require_two_factor=settings.two_factor_required())
    if form.validate_on_submit():
        services.require_two_factor(form.require_two_factor.data, current_user)
        flash(_("The settings are saved."))
        return redirect(url_for("organiser.settings"))
    status = 400 if form.errors else 200
    return render_template("organiser/settings.html", form=form), status
