"""The site's pages in their empty, error and success states, and the data
that puts them there: shared by the axe-core and Nu HTML Checker tests."""

import io
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from PIL import Image

from campaign.config import Config
from campaign.extensions import db
from campaign.images.services import set_story_image
from campaign.mailing.models import Broadcast, Subscriber
from campaign.permissions import Role
from campaign.petition import delivery
from campaign.petition.models import (
    Petition,
    PetitionState,
    PetitionUpdate,
    PetitionUpdateVersion,
    Signature,
)
from campaign.petition.services import get_petition
from campaign.petition.tokens import stop_updates_token
from campaign.privacy import self_service
from campaign.revisions import record_revision, start_history
from campaign.story.services import get_story
from tests.helpers import SLUG, sign, wait_for
from tests.test_broadcasts import add_subscribers
from tests.test_organiser import PASSWORD, add_organiser, log_in
from tests.test_two_factor import enrol

CLOSED = "an-earlier-petition"
STORY = "russia-recognizes-taliban"
ADMIN = "admin@example.org"
TWO_FACTOR = "twofactor@example.org"
# Names in another script than the page's, as bdi must isolate them.
SIGNERS = [
    ("Ada Lovelace", "ada@example.org", "For my sisters in Kabul."),
    ("ملالی جویا", "malalai@example.org", "برای خواهرانم"),
]

# Every language the app offers (Dari and Pashto once switched on).
LANGUAGES = list(Config.LANGUAGES)


@dataclass
class Data:
    """What the seeded site holds that pages are addressed by."""

    broadcast_id: int
    subscriber_token: str
    two_factor_secret: str
    extra: dict = field(default_factory=dict)


def populate(app, inbox) -> Data:
    """Signers (one in Arabic script), a closed petition, a subscriber, a draft
    broadcast, an admin, and an organiser with two-factor on."""
    client = app.test_client()
    for name, email, comment in SIGNERS:
        sign(client, name=name, email=email, comment=comment, public="y")
        message = wait_for(lambda e=email: inbox.to(e))[0]
        link = inbox.link(message)
        client.get(re.sub(r"^https?://[^/]+", "", link))
    add_subscribers(app, ["grace@example.org"])
    add_organiser(app, ADMIN, Role.ADMIN)
    add_organiser(app, TWO_FACTOR, Role.STAFF)
    enrolling = app.test_client()
    assert log_in(enrolling, TWO_FACTOR).status_code == 302
    secret, _codes = enrol(enrolling)
    with app.app_context():
        db.session.add(
            Petition(
                slug=CLOSED,
                title="An earlier petition",
                target="The United Nations",
                body_markdown="We asked.",
                body_html="<p>We asked.</p>",
                goal=100,
                state=PetitionState.CLOSED,
            )
        )
        db.session.add(Broadcast(subject="Update", body_markdown="Hello"))
        petition_id = db.session.scalar(sa.select(Petition.id).filter_by(slug=SLUG))
        update = PetitionUpdate(
            petition_id=petition_id,
            title="The minister replied",
            body_markdown="They *replied*.",
            body_html="<p>They <em>replied</em>.</p>",
            versions=[
                PetitionUpdateVersion(
                    locale="fa_AF",
                    title="وزیر پاسخ داد",
                    body_markdown="پاسخ دادند.",
                    body_html="<p>پاسخ دادند.</p>",
                )
            ],
        )
        db.session.add(update)
        db.session.commit()
        # The story with its header image (<picture>, og:image).
        photo = io.BytesIO()
        Image.new("RGB", (1200, 800), (90, 60, 120)).save(photo, "JPEG")
        alt_texts = {"fa_AF": "تصویر گزارش", "ps": "د کیسې انځور"}
        story = get_story(STORY)
        set_story_image(story, photo.getvalue(), "A photo", alt_texts, None)
        broadcast_id = db.session.scalar(sa.select(sa.func.max(Broadcast.id)))
        token = db.session.scalar(sa.select(Subscriber.token))
        # A petition PDF waiting for a worker: its progress page.
        pdf_key = delivery.start_job(get_petition(SLUG), None, "en").key
        # Two versions of the petition's words, one compared with the other.
        words = {"title": "No recognition", "body_markdown": "We ask.\n"}
        start_history("petition", 1, "en", words)
        revision = record_revision(
            "petition", 1, "en", {**words, "body_markdown": "We demand.\n"}, None
        )
        db.session.commit()
        signer = db.session.scalar(sa.select(Signature).order_by(Signature.id))
        extra = {
            "stop_token": stop_updates_token(signer),
            # A signer's own pages, from the links in their emails.
            "withdraw": link_path(self_service.withdraw_url(signer)),
            "your_data": link_path(self_service.signer_data_url(signer)),
            "confirm_copy": link_path(
                self_service.confirm_url("copy", "signature", signer)
            ),
            "confirm_erase": link_path(
                self_service.confirm_url("erase", "signature", signer)
            ),
            "update_id": update.id,
            "revision_id": revision.id,
            "pdf_key": pdf_key,
        }
    return Data(broadcast_id, token, secret, extra)


def link_path(url: str) -> str:
    """The path of an emailed link (made outside a request: no language prefix)."""
    return re.sub(r"^https?://[^/]+", "", url)


def public_paths(data: Data) -> dict[str, str]:
    """Public pages reached by a plain GET: name -> path."""
    return {
        "story": "/",
        "petition": f"/petitions/{SLUG}",
        "petition-check-email": f"/petitions/{SLUG}/check-email",
        "petition-thanks": f"/petitions/{SLUG}/thanks",
        "petition-link-invalid": f"/petitions/{SLUG}/confirm/not-a-token",
        "petition-closed": f"/petitions/{CLOSED}",
        "petition-stop-updates": (
            f"/petitions/{SLUG}/updates/stop/{data.extra.get('stop_token', '')}"
        ),
        "story-page": f"/stories/{STORY}",
        "campaigns": "/campaigns",
        "join": "/join",
        "join-check-email": "/join/check-email",
        "join-welcome": "/join/welcome",
        "join-link-invalid": "/join/confirm/not-a-token",
        "unsubscribe": f"/unsubscribe/{data.subscriber_token}",
        "preferences": f"/preferences/{data.subscriber_token}",
        "donate": "/donate",
        "donate-thanks": "/donate/thanks",
        "donate-cancelled": "/donate/cancelled",
        "donate-link-invalid": "/donate/manage/not-a-token",
        "withdraw": data.extra.get("withdraw", "/your-data/withdraw/x"),
        "your-data": data.extra.get("your_data", "/your-data/signature/x"),
        "your-data-list": f"/your-data/list/{data.subscriber_token}",
        "your-data-confirm-copy": data.extra.get("confirm_copy", "/your-data/x"),
        "your-data-confirm-erase": data.extra.get("confirm_erase", "/your-data/x"),
        "your-data-link-invalid": "/your-data/withdraw/not-a-token",
        "accessibility": "/accessibility",
        "privacy": "/privacy",
        "not-found": "/no-such-page",
    }


def organiser_paths(data: Data) -> dict[str, str]:
    """Organiser pages reached by a plain GET once signed in: name -> path."""
    updates = f"/organiser/petitions/{SLUG}/updates/"
    return {
        "dashboard": "/organiser/",
        "petition": f"/organiser/petitions/{SLUG}",
        "moderate": f"/organiser/petitions/{SLUG}/moderate",
        "moderate-removed": f"/organiser/petitions/{SLUG}/moderate?list=removed",
        "moderate-hidden": f"/organiser/petitions/{SLUG}/moderate?list=hidden-comments",
        # Refreshing off, as the page lets anyone turn it off (WCAG 2.2.1):
        # axe flags every refresh under 20 hours; the one-line change to it
        # is tested in tests/test_petition_pdf.py.
        "pdf-progress": f"/organiser/pdfs/{data.extra.get('pdf_key', '')}?refresh=off",
        "edit": f"/organiser/petitions/{SLUG}/edit",
        "story-image": f"/organiser/stories/{STORY}/image",
        "petition-new": "/organiser/petitions/new",
        "petition-close": f"/organiser/petitions/{SLUG}/close",
        "petition-archive": f"/organiser/petitions/{CLOSED}/archive",
        "petition-preview": f"/organiser/petitions/{CLOSED}/preview",
        "print": f"/organiser/petitions/{SLUG}/print",
        "updates": f"/organiser/petitions/{SLUG}/updates/",
        "update-new": f"/organiser/petitions/{SLUG}/updates/new",
        "update": f"{updates}{data.extra.get('update_id', 0)}",
        "update-email": f"{updates}{data.extra.get('update_id', 0)}/email",
        "stories": "/organiser/stories/",
        "story-new": "/organiser/stories/new",
        "story-edit": f"/organiser/stories/{STORY}/edit",
        "story-archive": f"/organiser/stories/{STORY}/archive",
        "broadcasts": "/organiser/broadcasts/",
        "broadcast-new": "/organiser/broadcasts/new",
        "broadcast": f"/organiser/broadcasts/{data.broadcast_id}",
        "broadcast-edit": f"/organiser/broadcasts/{data.broadcast_id}/edit",
        "subscribers": "/organiser/subscribers",
        "subscribers-error": "/organiser/subscribers?country=ZZ",
        "subscribers-import": "/organiser/subscribers/import",
        "donations": "/organiser/donations",
        "donations-error": "/organiser/donations?since=not-a-date",
        "supporters": "/organiser/supporters",
        "organisers": "/organiser/organisers",
        "audit": "/organiser/audit",
        "settings": "/organiser/settings",
        "password": "/organiser/password",
        "two-factor": "/organiser/two-factor",
        "history": "/organiser/history/petition/1",
        "history-compare": "/organiser/history/revision/"
        + str(data.extra.get("revision_id")),
    }


__all__ = ["ADMIN", "LANGUAGES", "PASSWORD", "TWO_FACTOR", "SLUG"]
