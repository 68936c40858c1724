"""Organiser pages for broadcasts: write, segment, test, confirm and send,
follow, delete drafts (the subscribers' pages are in subscriber_views.py).

Every route declares the role it needs (campaign/permissions.py).
"""

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from kombu.exceptions import OperationalError as QueueUnavailable
from wtforms import SelectChoice

from campaign.audit import audit
from campaign.errors import render_error
from campaign.forms import render_form
from campaign.localised import (
    ORIGINAL,
    lang_and_dir,
    language_name,
    other_languages,
)
from campaign.mailing import broadcasts, services, subscribers
from campaign.mailing.compose import render_bodies
from campaign.mailing.forms import (
    BounceForm,
    ConfirmForm,
    ScheduleForm,
    TestCopyForm,
    broadcast_form,
)
from campaign.mailing.models import Audience, BroadcastState, DeliveryState
from campaign.permissions import Role, requires
from campaign.petition.services import all_petitions, get_petition
from campaign.tasks import delay

bp = Blueprint("broadcasts", __name__, url_prefix="/organiser/broadcasts")


@bp.errorhandler(broadcasts.NotEditable)
def not_editable(error):
    """An edit, schedule or cancel of a broadcast already sent or cancelled."""
    return render_error(409)


def broadcast_or_404(broadcast_id: int):
    """The broadcast with this id, or a 404 page."""
    return broadcasts.get_broadcast(broadcast_id) or abort(404)


def audience_choices() -> list[SelectChoice]:
    """Everyone on the list, or the opted-in signers of one petition."""
    choices = [SelectChoice("subscribers", _("Everyone on the mailing list"))]
    for petition in all_petitions():
        label = _("Subscribers who signed “%(title)s”", title=petition.title)
        choices.append(SelectChoice(f"petition:{petition.slug}", label))
    return choices


def segment_choices(form, broadcast) -> None:
    """Offer the site's languages and the consent sources recorded so far
    (and the one the broadcast has, should its last subscriber be gone)."""
    form.segment_locale.choices = [SelectChoice("", _("Any language"))] + [
        SelectChoice(code, language_name(code))
        for code in current_app.config["LANGUAGES"]
    ]
    sources = subscribers.sources()
    if broadcast and broadcast.segment_source not in (None, *sources):
        sources.append(broadcast.segment_source)
    form.segment_source.choices = [SelectChoice("", _("Any way of joining"))] + [
        SelectChoice(source, source) for source in sources
    ]


def segment_words(broadcast) -> list[str]:
    """The broadcast's segment in organisers' words, one item per criterion."""
    words = []
    if broadcast.segment_locale:
        language = language_name(broadcast.segment_locale)
        words.append(_("language: %(language)s", language=language))
    if broadcast.segment_country:
        words.append(_("country: %(code)s", code=broadcast.segment_country))
    if broadcast.segment_source:
        words.append(_("joined through: %(source)s", source=broadcast.segment_source))
    return words


def audience_fields(value: str) -> dict:
    """The model fields a chosen audience stands for."""
    if value.startswith("petition:"):
        petition = get_petition(value.partition(":")[2]) or abort(400)
        return {"audience": Audience.PETITION, "petition_id": petition.id}
    return {"audience": Audience.SUBSCRIBERS, "petition_id": None}


def enqueue(task, *args) -> bool:
    """Hand work to the queue; False (and the beat catches up) if it is down."""
    try:
        delay(task, *args)
    except QueueUnavailable:
        flash(_("The task queue is unreachable; the worker will pick this up."))
        return False
    return True


def render_index(bounce_form: BounceForm, status: int = 200):
    """The list's size, every broadcast so far, the bounce form."""
    return render_template(
        "mailing/organiser/index.html",
        broadcasts=broadcasts.all_broadcasts(),
        counts=services.list_counts(),
        bounce_form=bounce_form,
    ), status


BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL)


def email_body(html: str) -> str:
    """What is inside an email's <body>: a page can show it, not a second
    document (doctype, head and all) inside its own."""
    found = BODY.search(html)
    return found.group(1) if found else html


def previews(broadcast) -> list[dict]:
    """The email of each version: English first, then the other languages."""
    shown = [(ORIGINAL, broadcast.subject, broadcast.body_markdown)]
    shown += [(v.locale, v.subject, v.body_markdown) for v in broadcast.versions]
    result = []
    for locale, subject, body in shown:
        text, html = render_bodies(subject, body, "preview", locale)
        result.append(
            {
                "locale": locale,
                "language": language_name(locale),
                "attributes": lang_and_dir(locale),
                "subject": subject,
                "text": text,
                "html": email_body(html),
            }
        )
    return result


def render_show(broadcast, schedule_form: ScheduleForm, status: int = 200):
    """A broadcast's page: preview, audience, actions, progress, outcomes."""
    started = broadcast.state not in broadcasts.EDITABLE
    return render_template(
        "mailing/organiser/show.html",
        broadcast=broadcast,
        previews=previews(broadcast),
        segment=segment_words(broadcast),
        # Counted only while it can still change (the page shows it then).
        reach=None if started else broadcasts.reach(broadcast),
        status=broadcasts.status(broadcast),
        delivery_states=list(DeliveryState),
        failures=broadcasts.failures(broadcast.id) if started else [],
        schedule_form=schedule_form,
    ), status


def render_confirm(broadcast, action: str, send_at=None):
    """The page that asks for a yes, with the exact reach now (no JavaScript)."""
    return render_template(
        "mailing/organiser/confirm.html",
        broadcast=broadcast,
        action=action,
        send_at=send_at,
        segment=segment_words(broadcast),
        reach=broadcasts.reach(broadcast),
    )


@bp.get("/")
@requires(Role.STAFF)
def index():
    """The list's size and every broadcast so far."""
    return render_index(BounceForm(formdata=None))


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:broadcast_id>/edit", methods=["GET", "POST"])
@requires(Role.EDITOR)
def edit(broadcast_id: int | None = None):
    """Write or change a draft."""
    broadcast = broadcast_or_404(broadcast_id) if broadcast_id else None
    form = broadcast_form(other_languages(), obj=broadcast)
    form.audience.choices = audience_choices()
    segment_choices(form, broadcast)
    if broadcast and not form.is_submitted():
        petition = broadcast.petition
        form.audience.data = f"petition:{petition.slug}" if petition else "subscribers"
        form.fill_versions(broadcast)
    if form.validate_on_submit():
        saved = broadcasts.save_draft(
            broadcast,
            current_user,
            versions=form.version_data(),
            subject=form.subject.data,
            body_markdown=form.body_markdown.data,
            **audience_fields(form.audience.data),
            **form.segment(),
        )
        return redirect(url_for("broadcasts.show", broadcast_id=saved.id))
    return render_form("mailing/organiser/edit.html", form, broadcast=broadcast)


@bp.get("/<int:broadcast_id>")
@requires(Role.STAFF)
def show(broadcast_id: int):
    """Preview, audience, actions, and live progress once sending."""
    return render_show(broadcast_or_404(broadcast_id), ScheduleForm(formdata=None))


@bp.get("/<int:broadcast_id>/progress.json")
@requires(Role.STAFF)
def progress(broadcast_id: int):
    """Pending, sent and failed counts, polled by the broadcast page."""
    return jsonify(broadcasts.status(broadcast_or_404(broadcast_id)))


@bp.post("/<int:broadcast_id>/test")
@requires(Role.EDITOR)
def test_copy(broadcast_id: int):
    """Email the organiser a copy marked as a test (of one language's version)."""
    from campaign.mailing.tasks import send_test_copy  # Celery, on first use

    broadcast = broadcast_or_404(broadcast_id)
    locale = TestCopyForm().locale.data or ORIGINAL
    detail = f"broadcast {broadcast.id}" + (
        f" ({locale})" if locale != ORIGINAL else ""
    )
    audit(current_user, "broadcast.test", detail)
    if enqueue(send_test_copy, broadcast.id, current_user.email, locale):
        flash(_("A test copy is on its way to %(email)s.", email=current_user.email))
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))


@bp.post("/<int:broadcast_id>/send")
@requires(Role.EDITOR)
def send_now(broadcast_id: int):
    """Ask for a yes showing the reach; on the confirming POST, start sending."""
    from campaign.mailing.tasks import send_broadcast  # Celery, on first use

    broadcast = broadcast_or_404(broadcast_id)
    if broadcast.state in broadcasts.EDITABLE and not ConfirmForm().confirmed():
        return render_confirm(broadcast, "send")
    if broadcasts.start(broadcast.id, current_user):
        enqueue(send_broadcast, broadcast.id)
        flash(_("Sending has started."))
    else:
        flash(_("This broadcast has already been sent or cancelled."))
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))


@bp.post("/<int:broadcast_id>/schedule")
@requires(Role.EDITOR)
def schedule(broadcast_id: int):
    """Send at a chosen time (UTC)."""
    broadcast = broadcast_or_404(broadcast_id)
    form = ScheduleForm()
    if not form.validate():
        return render_show(broadcast, form, 400)
    if broadcast.state not in broadcasts.EDITABLE:
        raise broadcasts.NotEditable
    if not ConfirmForm().confirmed():
        return render_confirm(broadcast, "schedule", form.send_at_utc())
    broadcasts.schedule(broadcast, form.send_at_utc(), current_user)
    flash(_("The broadcast is scheduled."))
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))


@bp.post("/<int:broadcast_id>/cancel")
@requires(Role.EDITOR)
def cancel(broadcast_id: int):
    """Stop a scheduled or sending broadcast."""
    broadcast = broadcast_or_404(broadcast_id)
    broadcasts.cancel(broadcast, current_user)
    flash(_("The broadcast is cancelled; nothing more will be sent."))
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))


@bp.post("/<int:broadcast_id>/delete")
@requires(Role.EDITOR)
def delete(broadcast_id: int):
    """Ask for a yes, then delete a draft (nothing else can be deleted)."""
    broadcast = broadcast_or_404(broadcast_id)
    if broadcast.state is not BroadcastState.DRAFT:
        raise broadcasts.NotEditable
    if not ConfirmForm().confirmed():
        return render_confirm(broadcast, "delete")
    broadcasts.delete_draft(broadcast, current_user)
    flash(_("The draft is deleted."))
    return redirect(url_for("broadcasts.index"))


@bp.post("/bounces")
@requires(Role.EDITOR)
def record_bounce():
    """Record a bounce or complaint the mail provider reported."""
    form = BounceForm()
    if not form.validate():
        return render_index(form, 400)
    services.record_bounce(form.email.data, form.kind.data, current_user)
    flash(_("Recorded."))
    return redirect(url_for("broadcasts.index"))
