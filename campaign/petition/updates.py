"""Petition updates: posting them, showing them on the petition page, and a
signer stopping them. Emailing them is campaign/mailing/signer_updates.py's.

An update is shown on the page (newest first, in the page's language where
it has a version) from the moment it is posted; emailing it is a separate,
confirmed step that an update goes through at most once.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from campaign.audit import record
from campaign.caching import remember
from campaign.extensions import cache, db
from campaign.http_cache import pages_changed
from campaign.localised import ORIGINAL
from campaign.models import now_utc
from campaign.petition.models import (
    Petition,
    PetitionUpdate,
    PetitionUpdateVersion,
    Signature,
)
from campaign.petition.tokens import InvalidLink, signature_from_stop_token
from campaign.text import render_markdown


@dataclass(frozen=True)
class PublicUpdate:
    """What the petition page shows of an update, in one language."""

    title: str
    body_html: str
    posted_at: datetime
    locale: str = ORIGINAL


def _updates_key(petition_id: int, locale: str) -> str:
    """Cache key of a petition's public updates in one language."""
    return f"petition-updates/{petition_id}/{locale}"


def public_updates(petition_id: int, locale: str) -> list[PublicUpdate]:
    """The petition's updates, newest first, each in ``locale`` where it has a
    version, else in English (cached like the count; posting forgets them)."""

    def load() -> list[PublicUpdate]:
        shown = []
        for update in updates_of(petition_id):
            text = next((v for v in update.versions if v.locale == locale), update)
            shown.append(
                PublicUpdate(
                    text.title,
                    text.body_html,
                    update.posted_at,
                    locale if text is not update else ORIGINAL,
                )
            )
        return shown

    return remember(_updates_key(petition_id, locale), load)


def updates_of(petition_id: int) -> list[PetitionUpdate]:
    """Every update of a petition, newest first, with its versions."""
    return list(
        db.session.scalars(
            sa.select(PetitionUpdate)
            .where(PetitionUpdate.petition_id == petition_id)
            .options(selectinload(PetitionUpdate.versions))
            .order_by(PetitionUpdate.posted_at.desc(), PetitionUpdate.id.desc())
        )
    )


def get_update(petition: Petition, update_id: int) -> PetitionUpdate | None:
    """The petition's update with this id, or None (another petition's too)."""
    update = db.session.get(PetitionUpdate, update_id)
    return update if update and update.petition_id == petition.id else None


def post_update(
    petition: Petition,
    organiser,
    title: str,
    body_markdown: str,
    versions: dict[str, tuple[str, str] | None],
) -> PetitionUpdate:
    """Post an update on the petition's page, with ``versions``
    ``{locale: (title, body)}`` (None: none in that language); audited."""
    update = PetitionUpdate(
        petition_id=petition.id,
        title=title,
        body_markdown=body_markdown,
        body_html=render_markdown(body_markdown),
        posted_at=now_utc(),
        posted_by_id=organiser.id,
    )
    for locale, text in versions.items():
        if text is not None:
            update.versions.append(
                PetitionUpdateVersion(
                    locale=locale,
                    title=text[0],
                    body_markdown=text[1],
                    body_html=render_markdown(text[1]),
                )
            )
    db.session.add(update)
    db.session.flush()
    detail = f"{petition.slug}: update {update.id}"
    if update.versions:
        detail += f" (also in {', '.join(v.locale for v in update.versions)})"
    record(organiser, "petition-update.post", detail)
    db.session.commit()
    forget_updates(petition)
    return update


def forget_updates(petition: Petition) -> None:
    """Drop a petition's cached updates and the pages showing them."""
    languages = current_app.config["LANGUAGES"]
    cache.delete_many(*(_updates_key(petition.id, code) for code in languages))
    pages_changed()


def signer_from_stop_link(petition_id: int, token: str) -> Signature:
    """The signature a stop link names, if it is one of this petition's
    (a link never stops another petition's updates); else InvalidLink."""
    signature = signature_from_stop_token(token)
    if signature.petition_id != petition_id:
        raise InvalidLink
    return signature


def stop_updates(signature: Signature) -> None:
    """Send this signer no more of this petition's updates (a second click
    changes nothing). Their other petitions and the mailing list are untouched.
    """
    db.session.execute(
        sa.update(Signature)
        .where(Signature.id == signature.id, Signature.wants_updates.is_(True))
        .values(wants_updates=False, updates_stopped_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(signature)
