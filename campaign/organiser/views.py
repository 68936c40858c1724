"""Organiser accounts: sign-in and out, passwords, accounts, the audit log page.

The organiser pages of each feature live with the feature
(``<feature>/organiser_views.py``); every route declares its role there.
"""

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from campaign.audit import latest as latest_audit
from campaign.extensions import login_manager
from campaign.organiser import services, sessions, settings, sign_in
from campaign.organiser.forms import (
    LoginForm,
    NewOrganiserForm,
    PasswordForm,
    RoleForm,
)
from campaign.permissions import Role, public, requires

bp = Blueprint("organiser", __name__, url_prefix="/organiser")


@login_manager.user_loader
def load_organiser(token: str):
    """The organiser a server-side session names, if it is still live."""
    return sessions.load_session(token)


@login_manager.unauthorized_handler
def unauthorized():
    """Anonymous: data requests get 401, pages a redirect to sign in."""
    offered = ["text/html", "application/json", "text/csv"]
    preferred = request.accept_mimetypes.best_match(offered, default="text/html")
    if request.path.endswith((".csv", ".json")) or preferred != "text/html":
        abort(401)
    return redirect(url_for("organiser.login", next=request.full_path))


# Reachable by a signed-in organiser who must still set up two-factor.
ENROLMENT_ENDPOINTS = {
    "organiser.login",
    "organiser.login_code",
    "organiser.logout",
    "organiser.two_factor",
    "organiser.two_factor_enable",
}


@bp.before_app_request
def require_two_factor():
    """When admins require two-factor, organisers without it enrol first."""
    if not request.path.startswith(bp.url_prefix + "/"):
        return None
    if request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if (
        current_user.is_authenticated
        and not current_user.two_factor_on
        and settings.two_factor_required()
    ):
        return redirect(url_for("organiser.two_factor"))
    return None


# Both limits count failures only, so signing in never uses them up; the
# per-account one spares browsers that signed into that account before, so
# strangers' wrong guesses cannot lock its organiser out.
@bp.route("/login", methods=["GET", "POST"])
@public
@sign_in.limit_failures(sign_in.submitted_email, sign_in.device_knows_submitted)
def login():
    """Sign in with email and password (then a code, with two-factor on)."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            organiser = services.authenticate(form.email.data, form.password.data)
        except services.LoginFailed:
            form.password.errors.append(_("That email and password don't match."))
        else:
            if organiser.two_factor_on:
                sign_in.start_pending(organiser, request.args.get("next"))
                return redirect(url_for("organiser.login_code"))
            return sign_in.finish(organiser, request.args.get("next"))
    status = 400 if form.errors else 200
    return render_template("organiser/login.html", form=form), status


@bp.post("/logout")
@requires(Role.STAFF)
def logout():
    """Sign out of this browser: its server-side session ends."""
    sessions.end_session(current_user.session_token)
    logout_user()
    session.clear()
    flash(_("You are signed out."))
    return redirect(url_for("organiser.login"))


@bp.route("/password", methods=["GET", "POST"])
@requires(Role.STAFF)
def password():
    """Change your password; your other sessions end."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.new.data)
        except services.AccountError as error:
            form.current.errors.append(str(error))
        else:
            flash(_("Your password is changed. Other sessions are signed out."))
            return redirect(url_for("petition_organiser.dashboard"))
    status = 400 if form.errors else 200
    return render_template("organiser/password.html", form=form), status


@bp.get("/audit")
@requires(Role.ADMIN)
def audit():
    """The latest entries of the audit log."""
    return render_template("organiser/audit.html", entries=latest_audit())


@bp.route("/organisers", methods=["GET", "POST"])
@requires(Role.ADMIN)
def organisers():
    """Admins see every account and add new ones."""
    form = NewOrganiserForm()
    if form.validate_on_submit():
        try:
            added = services.create_organiser(
                form.email.data, form.password.data, Role(form.role.data), current_user
            )
        except services.AccountError as error:
            form.email.errors.append(str(error))
        else:
            flash(_("%(email)s can now sign in.", email=added.email))
            return redirect(url_for("organiser.organisers"))
    status = 400 if form.errors else 200
    accounts = services.all_organisers()
    return render_template(
        "organiser/organisers.html",
        form=form,
        accounts=accounts,
        role_forms={a.id: role_form(a) for a in accounts},
    ), status


def role_form(account) -> RoleForm:
    """The role form of one account's row (prefixed: one page holds many)."""
    return RoleForm(
        formdata=None, prefix=f"account-{account.id}", role=account.role.value
    )


@bp.post("/organisers/<int:organiser_id>/role")
@requires(Role.ADMIN)
def change_role(organiser_id: int):
    """Give an account another role; it is signed out everywhere."""
    account = services.get_organiser(organiser_id) or abort(404)
    form = RoleForm(prefix=f"account-{organiser_id}")
    if not form.validate():
        abort(400)
    try:
        services.change_role(account, Role(form.role.data), current_user)
    except services.AccountError as error:
        flash(str(error))
    else:
        flash(
            _(
                "%(email)s is now %(role)s.",
                email=account.email,
                role=Role(form.role.data).label,
            )
        )
    return redirect(url_for("organiser.organisers"))


@bp.post("/organisers/<int:organiser_id>/<any(activate, deactivate):change>")
@requires(Role.ADMIN)
def switch_organiser(organiser_id: int, change: str):
    """Switch an account on or off."""
    account = services.get_organiser(organiser_id) or abort(404)
    try:
        services.set_active(account, change == "activate", current_user)
    except services.AccountError as error:
        flash(str(error))
    return redirect(url_for("organiser.organisers"))


# The two-factor pages add their routes to ``bp``; imported last, once it
# exists.
from campaign.organiser import two_factor_views  # noqa: E402, F401
