"""Organiser accounts: sign-in and out, passwords, accounts, the audit log page.

The organiser pages of each feature live with the feature
(``<feature>/organiser_views.py``); every route declares its role there.
"""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from campaign.audit import latest as latest_audit
from campaign.extensions import limiter, login_manager
from campaign.organiser import services
from campaign.organiser.forms import LoginForm, NewOrganiserForm, PasswordForm
from campaign.permissions import Role, public, requires

bp = Blueprint("organiser", __name__, url_prefix="/organiser")


@login_manager.user_loader
def load_organiser(token: str):
    """The organiser a session names, if that session is still valid."""
    return services.load_by_session_token(token)


@login_manager.unauthorized_handler
def unauthorized():
    """Anonymous: data requests get 401, pages a redirect to sign in."""
    offered = ["text/html", "application/json", "text/csv"]
    preferred = request.accept_mimetypes.best_match(offered, default="text/html")
    if request.path.endswith((".csv", ".json")) or preferred != "text/html":
        abort(401)
    return redirect(url_for("organiser.login", next=request.full_path))


def login_rate_limit() -> str:
    """Sign-in attempts allowed per client address and per account."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def submitted_email() -> str:
    """The account a sign-in attempt is for: its own rate-limit bucket."""
    return "login:" + request.form.get("email", "").strip().lower()


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path inside the organiser area."""
    if target and not urlsplit(target).netloc and target.startswith("/organiser/"):
        return target
    return url_for("petition_organiser.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(login_rate_limit, methods=["POST"])
@limiter.limit(login_rate_limit, methods=["POST"], key_func=submitted_email)
def login():
    """Sign in with email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            organiser = services.authenticate(form.email.data, form.password.data)
        except services.LoginFailed:
            form.password.errors.append(_("That email and password don't match."))
        else:
            session.clear()  # nothing from before sign-in carries over
            login_user(organiser)
            return redirect(safe_next(request.args.get("next")))
    status = 400 if form.errors else 200
    return render_template("organiser/login.html", form=form), status


@bp.post("/logout")
@requires(Role.STAFF)
def logout():
    """Sign out of this browser."""
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
            login_user(current_user)  # this session carries the new token
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
    return render_template(
        "organiser/organisers.html", form=form, accounts=services.all_organisers()
    ), status


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
