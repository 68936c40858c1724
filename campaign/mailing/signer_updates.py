"""Emailing a petition update to its signers through the broadcast engine.

An update becomes a broadcast (Audience.PETITION_UPDATES) with its language
versions, started in the same commit that links it to the update, so an
update is emailed at most once and its copies follow every rule of the
ledger (exactly once, throttle, retries; see ledger.py). Each copy carries a
link stopping that petition's updates (RFC 8058 one-click as well), not the
list's unsubscribe link: its readers may not be on the list.
"""

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale

from campaign.audit import record
from campaign.config import site_text
from campaign.extensions import db
from campaign.localised import ORIGINAL
from campaign.mailing.broadcasts import start
from campaign.mailing.compose import (
    PLACEHOLDER,
    WITHDRAW_PLACEHOLDER,
    BroadcastMessages,
    BulkMessage,
)
from campaign.mailing.models import Audience, Broadcast, BroadcastVersion
from campaign.petition.models import PetitionUpdate
from campaign.privacy.self_service import update_data_url, withdraw_link
from campaign.text import render_markdown
from campaign.urls import external_url


def email_update(update: PetitionUpdate, organiser) -> Broadcast | None:
    """Start emailing an update to the signers who asked for it; None if it
    was emailed already (from another tab, say)."""
    broadcast = Broadcast(
        subject=update.title,
        body_markdown=update.body_markdown,
        audience=Audience.PETITION_UPDATES,
        petition_id=update.petition_id,
        created_by_id=organiser.id,
        versions=[
            BroadcastVersion(
                locale=v.locale, subject=v.title, body_markdown=v.body_markdown
            )
            for v in update.versions
        ],
    )
    db.session.add(broadcast)
    db.session.flush()
    linked = db.session.execute(
        sa.update(PetitionUpdate)
        .where(PetitionUpdate.id == update.id, PetitionUpdate.broadcast_id.is_(None))
        .values(broadcast_id=broadcast.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not linked:
        db.session.rollback()
        return None
    detail = f"{update.petition.slug}: update {update.id}, broadcast {broadcast.id}"
    record(organiser, "petition-update.email", detail)
    start(broadcast.id, organiser)  # the ledger, in the same commit
    return broadcast


def stop_url(slug: str, token: str) -> str:
    """The page (GET asks, POST does it) stopping a petition's updates."""
    return external_url("petition.stop_updates", slug=slug, token=token)


def update_bodies(
    slug: str, subject: str, body_markdown: str, token: str, locale: str = ORIGINAL
) -> tuple[str, str]:
    """The plain-text and HTML bodies of an update's email, in ``locale``."""
    with force_locale(locale):
        context = {
            "subject": subject,
            "body_text": body_markdown,
            "body_html": render_markdown(body_markdown),
            "petition_url": external_url("petition.show", slug=slug),
            "stop_url": stop_url(slug, token),
            "data_url": update_data_url(token),
            "withdraw_url": withdraw_link(WITHDRAW_PLACEHOLDER),
            "site_name": site_text("SITE_NAME"),
        }
        return (
            render_template("email/petition/update.txt", **context),
            render_template("email/petition/update.html", **context),
        )


class UpdateMessage(BulkMessage):
    """A petition update's email: the update's footer and stop link."""

    def __init__(self, slug: str, subject: str, body_markdown: str, locale=ORIGINAL):
        """Render it once for the petition with this slug."""
        self.slug = slug
        super().__init__(subject, body_markdown, locale)

    def bodies(self, subject: str, body_markdown: str, locale: str):
        """The update's bodies, with the placeholder for the token."""
        return update_bodies(self.slug, subject, body_markdown, PLACEHOLDER, locale)

    def headers(self) -> dict[str, str]:
        """RFC 2369 / RFC 8058 headers stopping this petition's updates."""
        return {
            "List-Unsubscribe": f"<{stop_url(self.slug, PLACEHOLDER)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }


def update_messages(broadcast: Broadcast) -> BroadcastMessages:
    """A petition update's broadcast, in each language it has a version in."""
    slug = broadcast.petition.slug

    def kind(subject: str, body_markdown: str, locale: str = ORIGINAL):
        return UpdateMessage(slug, subject, body_markdown, locale)

    return BroadcastMessages(broadcast, kind=kind)
