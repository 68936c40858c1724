"""Organiser pages under /organiser/: every one needs a signed-in organiser."""

import functools

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    stream_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from campaign.extensions import limiter, login_manager
from campaign.organiser import care, exports, services, sessions, settings, sign_in
from campaign.organiser.forms import (
    ExportForm,
    LoginForm,
    NewOrganiserForm,
    PasswordForm,
    PetitionForm,
    RoleForm,
    SelectionForm,
    SupporterForm,
)
from campaign.organiser.models import Role
from campaign.organiser.stats import petition_stats
from campaign.petition import services as petitions

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


@bp.after_request
def never_cache(response):
    """Organiser pages hold supporters' data: no browser or proxy keeps them."""
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


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
@limiter.limit(sign_in.rate_limit, methods=["POST"], deduct_when=sign_in.failed)
@limiter.limit(
    sign_in.rate_limit,
    methods=["POST"],
    key_func=sign_in.submitted_email,
    deduct_when=sign_in.failed,
    exempt_when=sign_in.device_knows_submitted,
)
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
@login_required
def logout():
    """Sign out of this browser: its server-side session ends."""
    sessions.end_session(current_user.session_token)
    logout_user()
    session.clear()
    flash(_("You are signed out."))
    return redirect(url_for("organiser.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
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
            return redirect(url_for("organiser.dashboard"))
    status = 400 if form.errors else 200
    return render_template("organiser/password.html", form=form), status


@bp.get("/")
@login_required
def dashboard():
    """Every petition at a glance."""
    found = petitions.all_petitions()
    rows = [(petition, petition_stats(petition)) for petition in found]
    return render_template("organiser/dashboard.html", rows=rows)


@bp.get("/petitions/<slug>")
@login_required
def petition(slug: str):
    """One petition in detail: counts, chart, countries, latest signatures."""
    found = petitions.get_petition(slug) or abort(404)
    return render_template(
        "organiser/petition.html",
        petition=found,
        stats=petition_stats(found),
        export_form=ExportForm(formdata=None),
    )


@bp.get("/petitions/<slug>/signatures.csv")
@login_required
def export_signatures(slug: str):
    """Download the petition's signatures as CSV, streamed and audited."""
    found = petitions.get_petition(slug) or abort(404)
    form = ExportForm(request.args)
    if not form.validate():
        return {"errors": form.errors}, 400
    organiser = current_user._get_current_object()
    chunks = exports.CsvExport(found, form.filters(), organiser, "web")
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{slug}-signatures.csv"'
    )
    return response


@bp.route("/petitions/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_petition(slug: str):
    """Change a petition's wording, goal or status."""
    found = petitions.get_petition(slug) or abort(404)
    form = PetitionForm(obj=found, state=found.state.value)
    if form.validate_on_submit():
        petitions.update_petition(found, **form_fields(form))
        flash(_("The petition is saved."))
        return redirect(url_for("organiser.petition", slug=slug))
    status = 400 if form.errors else 200
    return render_template("organiser/edit.html", petition=found, form=form), status


def form_fields(form: PetitionForm) -> dict:
    """The edited values, by field name."""
    names = ["title", "target", "body_markdown", "goal", "state"]
    return {name: getattr(form, name).data for name in names}


def admin_required(view):
    """Only admins: staff get a 403 page."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.get("/petitions/<slug>/print")
@login_required
def print_petition(slug: str):
    """The petition, its count and its signers, laid out for paper or PDF."""
    found = petitions.get_petition(slug) or abort(404)
    services.audit(current_user, "print-signatures", slug)
    signers = care.confirmed_signers(found)
    page = stream_template(
        "organiser/print.html",
        petition=found,
        count=petitions.confirmed_count(found.id),
        signers=signers,
    )
    return Response(stream_with_context(page))


@bp.get("/audit")
@admin_required
def audit():
    """The latest entries of the audit log."""
    return render_template("organiser/audit.html", entries=services.latest_audit())


@bp.route("/petitions/<slug>/moderate", methods=["GET", "POST"])
@login_required
def moderate(slug: str):
    """Invalidate signatures in bulk, after seeing how many will change."""
    found = petitions.get_petition(slug) or abort(404)
    form = SelectionForm()
    count = None
    if form.validate_on_submit():
        if form.confirm.data:
            changed = care.invalidate(found, form.selection(), current_user)
            flash(_("%(n)d signatures invalidated.", n=changed))
            return redirect(url_for("organiser.petition", slug=slug))
        count = care.preview(found, form.selection())
    status = 400 if form.errors else 200
    return render_template(
        "organiser/moderate.html",
        petition=found,
        form=form,
        count=count,
        comments=care.public_comments(found),
    ), status


# What an organiser may do to one signature, and the page to go back to.
SIGNATURE_ACTIONS = {
    "invalidate": (care.invalidate_one, "organiser.petition"),
    "hide": (care.hide_public, "organiser.petition"),
    "hide-comment": (care.hide_comment, "organiser.moderate"),
}


@bp.post("/signatures/<int:signature_id>/<action>")
@login_required
def signature_action(signature_id: int, action: str):
    """Invalidate one signature, or stop showing its name or its comment."""
    signature = care.get_signature(signature_id) or abort(404)
    if action not in SIGNATURE_ACTIONS:
        abort(404)
    act, back_to = SIGNATURE_ACTIONS[action]
    act(signature, current_user)
    flash(_("Done."))
    return redirect(url_for(back_to, slug=signature.petition.slug))


@bp.route("/supporters", methods=["GET", "POST"])
@login_required
def supporters():
    """Find everything held about a supporter (the email never goes in a URL)."""
    form = SupporterForm()
    found = None
    if form.validate_on_submit():
        found = care.supporter_signatures(form.email.data)
    status = 400 if form.errors else 200
    return render_template(
        "organiser/supporters.html", form=form, signatures=found
    ), status


@bp.post("/supporters/export")
@login_required
def export_supporter():
    """Everything held about a supporter, as a JSON download."""
    form = SupporterForm()
    if not form.validate():
        abort(400)
    data = care.supporter_record(form.email.data)
    services.audit(current_user, "export-supporter", "data request", 1)
    response = jsonify(data)
    response.headers["Content-Disposition"] = 'attachment; filename="supporter.json"'
    return response


@bp.post("/supporters/erase")
@admin_required
def erase_supporter():
    """Erase everything held about a supporter."""
    form = SupporterForm()
    if not form.validate():
        abort(400)
    erased = care.erase_supporter(form.email.data, current_user)
    flash(_("Erased %(n)d signatures.", n=erased))
    return redirect(url_for("organiser.supporters"))


@bp.route("/organisers", methods=["GET", "POST"])
@admin_required
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
@admin_required
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
        flash(_("%(email)s is now %(role)s.", email=account.email, role=form.role.data))
    return redirect(url_for("organiser.organisers"))


@bp.post("/organisers/<int:organiser_id>/<any(activate, deactivate):change>")
@admin_required
def switch_organiser(organiser_id: int, change: str):
    """Switch an account on or off."""
    account = services.get_organiser(organiser_id) or abort(404)
    try:
        services.set_active(account, change == "activate", current_user)
    except services.AccountError as error:
        flash(str(error))
    return redirect(url_for("organiser.organisers"))


# The donation and two-factor pages add their routes to ``bp``; imported last,
# once it exists.
from campaign.organiser import donation_views, two_factor_views  # noqa: E402, F401
