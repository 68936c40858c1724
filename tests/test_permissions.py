"""Who may call each organiser route: every one declares a role, and it holds.

The matrix below is the intended permission model. The test walks
``app.url_map``, so a new organiser route that declares no role, or one whose
role differs from the matrix, fails here until the matrix says who may call it.
"""

import pytest
import sqlalchemy as sa

from campaign.extensions import db
from campaign.mailing import broadcasts
from campaign.mailing.models import Audience
from campaign.organiser.services import create_organiser, find_organiser
from campaign.permissions import Role, declared_role, is_declared
from campaign.petition.models import Signature
from tests.helpers import SLUG, sign
from tests.test_organiser import PASSWORD

PUBLIC, STAFF, EDITOR, ADMIN = None, Role.STAFF, Role.EDITOR, Role.ADMIN
# endpoint -> the least role that may call it (None: anyone).
MATRIX = {
    "organiser.login": PUBLIC,
    "organiser.login_code": PUBLIC,  # works only half-way through signing in
    "organiser.two_factor": STAFF,
    "organiser.two_factor_enable": STAFF,
    "organiser.two_factor_disable": STAFF,
    "organiser.settings": ADMIN,
    "organiser.change_role": ADMIN,
    "organiser.logout": STAFF,
    "organiser.password": STAFF,
    "organiser.audit": ADMIN,
    "organiser.organisers": ADMIN,
    "organiser.switch_organiser": ADMIN,
    "petition_organiser.dashboard": STAFF,
    "petition_organiser.petition": STAFF,
    "petition_organiser.export_signatures": STAFF,
    "petition_organiser.print_petition": STAFF,
    "petition_organiser.moderate": STAFF,
    "petition_organiser.signature_action": STAFF,
    "petition_organiser.edit_petition": EDITOR,
    "petition_organiser.new_petition": EDITOR,
    "petition_organiser.preview_petition": STAFF,
    "petition_organiser.publish": EDITOR,
    "petition_organiser.close": EDITOR,
    "petition_organiser.reopen": EDITOR,
    "petition_organiser.archive": EDITOR,
    "petition_organiser.undo": STAFF,
    "petition_organiser.pdf": STAFF,  # as the signatures export
    "petition_organiser.start_pdf": STAFF,
    "petition_organiser.pdf_progress": STAFF,
    "petition_organiser.pdf_download": STAFF,
    "petition_updates.index": STAFF,
    "petition_updates.show": STAFF,
    "petition_updates.new": EDITOR,
    "petition_updates.confirm_email": EDITOR,
    "petition_updates.email": EDITOR,
    "broadcasts.index": STAFF,
    "broadcasts.show": STAFF,
    "broadcasts.progress": STAFF,
    "broadcasts.edit": EDITOR,
    "broadcasts.test_copy": EDITOR,
    "broadcasts.send_now": EDITOR,
    "broadcasts.schedule": EDITOR,
    "broadcasts.cancel": EDITOR,
    "broadcasts.record_bounce": EDITOR,
    "images_organiser.story_image_page": EDITOR,
    "images_organiser.remove_story_image": EDITOR,
    "broadcasts.delete": EDITOR,
    "subscribers.index": STAFF,
    "subscribers.export": STAFF,
    "subscribers.import_csv": EDITOR,
    "donate_organiser.overview": STAFF,
    "donate_organiser.export": STAFF,
    "story_organiser.index": STAFF,
    "story_organiser.preview": STAFF,
    "story_organiser.new": EDITOR,
    "story_organiser.edit": EDITOR,
    "story_organiser.publish": EDITOR,
    "story_organiser.archive": EDITOR,
    "story_organiser.unpublish": EDITOR,
    "story_organiser.feature": EDITOR,
    "privacy.supporters": STAFF,
    "privacy.export_supporter": STAFF,
    "privacy.erase_supporter": ADMIN,
    "revisions.history": STAFF,
    "revisions.compare": STAFF,
}
ROLES = [None, Role.STAFF, Role.EDITOR, Role.ADMIN]  # None: not signed in
# Each role includes the ones below it (written out here, not taken from the code).
RANK = {Role.STAFF: 1, Role.EDITOR: 2, Role.ADMIN: 3}


def organiser_rules(app):
    """Every URL rule of the organiser area."""
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/organiser")]


def undeclared(app) -> list[str]:
    """Organiser endpoints that state no role (neither @requires nor @public)."""
    return [
        rule.endpoint
        for rule in organiser_rules(app)
        if not is_declared(app.view_functions[rule.endpoint])
    ]


def test_every_organiser_route_declares_the_role_in_the_matrix(app):
    assert undeclared(app) == [], "organiser routes without @requires or @public"
    declared = {
        rule.endpoint: declared_role(app.view_functions[rule.endpoint])
        for rule in organiser_rules(app)
    }
    assert declared == MATRIX


def test_a_new_organiser_route_without_a_role_is_caught(app):
    @app.get("/organiser/forgotten")
    def forgotten():
        return "no permission declared"

    assert undeclared(app) == ["forgotten"]


@pytest.fixture
def matrix_app(app_factory):
    """The site without CSRF tokens, so every POST reaches its permission check,
    with a broadcast, a signature and a spare account to act on."""
    app = app_factory(WTF_CSRF_ENABLED=False)
    sign(app.test_client(), csrf_token="")
    with app.app_context():
        for role in (Role.STAFF, Role.EDITOR, Role.ADMIN):
            create_organiser(f"{role.value}@example.org", PASSWORD, role)
        create_organiser("spare@example.org", PASSWORD, Role.STAFF)
        draft = broadcasts.save_draft(
            None,
            find_organiser("editor@example.org"),
            subject="News",
            body_markdown="Hello.",
            audience=Audience.SUBSCRIBERS,
            petition_id=None,
        )
        values = {
            "slug": SLUG,
            "broadcast_id": draft.id,
            "organiser_id": find_organiser("spare@example.org").id,
            "signature_id": db.session.scalar(sa.select(Signature.id)),
            "update_id": 1,  # none: editors get a 404, the others are refused first
            "action": "hide",
            "key": "no-such-pdf",
            "change": "activate",
            "kind": "petition",
            "object_id": 1,
            "revision_id": 1,
        }
    return app, values


def client_as(app, role: Role | None):
    """A client signed in with ``role`` (None: anonymous)."""
    client = app.test_client()
    if role is not None:
        data = {"email": f"{role.value}@example.org", "password": PASSWORD}
        assert client.post("/organiser/login", data=data).status_code == 302
    return client


def to_sign_in(response) -> bool:
    """Whether a response sends the browser to the sign-in page."""
    location = response.headers.get("Location", "")
    return response.status_code == 302 and location.startswith("/organiser/login")


def allowed_answer(endpoint: str, role: Role | None, needed, response) -> bool:
    """Whether ``response`` is what ``role`` should get from a route needing
    ``needed``: refused as anonymous or too low a role, served otherwise."""
    status = response.status_code
    served = status < 500 and status not in (401, 403)
    if needed is None:
        return served
    if role is None:
        return status == 401 or to_sign_in(response)
    if RANK[role] < RANK[needed]:
        return status == 403
    # Sign-out's own answer is the sign-in page.
    return served and (not to_sign_in(response) or endpoint == "organiser.logout")


def test_each_role_gets_exactly_what_the_matrix_says(matrix_app):
    app, values = matrix_app
    clients = {role: client_as(app, role) for role in ROLES}
    # Sign-out last: it ends the session the other requests use.
    rules = sorted(organiser_rules(app), key=lambda r: r.endpoint == "organiser.logout")
    wrong = []
    for rule in rules:
        needed = MATRIX[rule.endpoint]
        url = rule.build(
            {name: values[name] for name in rule.arguments}, append_unknown=False
        )[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                response = clients[role].open(url, method=method)
                response.get_data()  # streamed pages run to the end
                response.close()
                status = response.status_code
                ok = allowed_answer(rule.endpoint, role, needed, response)
                if not ok:
                    who = role.value if role else "anonymous"
                    wrong.append(f"{method} {url} as {who}: {status}")
    assert wrong == []


def test_staff_cannot_close_the_petition_or_send_a_broadcast(matrix_app):
    app, values = matrix_app
    staff = client_as(app, Role.STAFF)
    closing = staff.post(f"/organiser/petitions/{SLUG}/close")
    sending = staff.post(f"/organiser/broadcasts/{values['broadcast_id']}/send")
    assert closing.status_code == 403 and sending.status_code == 403
    public = app.test_client().get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "This petition is closed." not in public
    with app.app_context():
        assert broadcasts.get_broadcast(values["broadcast_id"]).state.value == "draft"


def test_petition_edits_are_audited(matrix_app):
    app, _ = matrix_app
    editor = client_as(app, Role.EDITOR)
    response = editor.post(
        f"/organiser/petitions/{SLUG}/edit",
        data={
            "title": "New title",
            "target": "Everyone",
            "body_markdown": "Text",
            "goal": "500",
            "goal_mode": "stepping",
        },
    )
    assert response.status_code == 302
    admin = client_as(app, Role.ADMIN)
    log = admin.get("/organiser/audit").get_data(as_text=True)
    assert "Edited a petition" in log and "editor@example.org" in log
    assert "title, target, body_markdown, goal, goal_mode" in log


def test_pages_offer_only_the_actions_the_role_allows(matrix_app):
    app, values = matrix_app
    broadcast = f"/organiser/broadcasts/{values['broadcast_id']}"
    petition = f"/organiser/petitions/{SLUG}"
    staff, editor = client_as(app, Role.STAFF), client_as(app, Role.EDITOR)
    for client, shown in ((staff, False), (editor, True)):
        page = client.get(broadcast).get_data(as_text=True)
        assert ("Send now to" in page) is shown
        assert ("Edit the petition" in client.get(petition).get_data(True)) is shown
    assert "Organisers" not in editor.get("/organiser/").get_data(as_text=True)
    admin = client_as(app, Role.ADMIN)
    assert "Organisers" in admin.get("/organiser/").get_data(as_text=True)
