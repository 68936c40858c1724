"""Broadcasts: write, schedule, start (make the ledger), finish, history."""

from datetime import datetime

import sqlalchemy as sa

from campaign.audit import record
from campaign.extensions import db
from campaign.localised import ORIGINAL
from campaign.mailing.ledger import outstanding, progress, settle_all
from campaign.mailing.models import (
    Audience,
    Broadcast,
    BroadcastState,
    BroadcastVersion,
    Delivery,
    DeliveryState,
    Subscriber,
    SubscriberState,
    Suppression,
)
from campaign.mailing.subscribers import segment_conditions
from campaign.mailing.update_audience import add_signer_deliveries, update_reach
from campaign.models import now_utc
from campaign.petition.models import Signature, SignatureState

EDITABLE = (BroadcastState.DRAFT, BroadcastState.SCHEDULED)


class NotEditable(Exception):
    """The broadcast has started (or was cancelled): it can't change now."""


def all_broadcasts() -> list[Broadcast]:
    """Every broadcast, newest first: the history organisers see."""
    return db.session.scalars(sa.select(Broadcast).order_by(Broadcast.id.desc())).all()


def get_broadcast(broadcast_id: int) -> Broadcast | None:
    """The broadcast with this id, or None."""
    return db.session.get(Broadcast, broadcast_id)


def save_draft(
    broadcast: Broadcast | None,
    organiser,
    versions: dict[str, tuple[str, str] | None] | None = None,
    **fields,
) -> Broadcast:
    """Create or edit a draft: subject, body, audience (and its petition), and
    ``versions``: ``{locale: (subject, body)}`` for other languages, None to
    drop one (a language without a version gets the English original)."""
    if broadcast is None:
        broadcast = Broadcast(created_by_id=organiser.id)
        db.session.add(broadcast)
    elif broadcast.state not in EDITABLE:
        raise NotEditable
    for name, value in fields.items():
        setattr(broadcast, name, value)
    if versions is not None:
        _set_versions(broadcast, versions)
    if broadcast.audience is not Audience.PETITION:
        broadcast.petition_id = None
    broadcast.state = BroadcastState.DRAFT
    broadcast.send_at = None
    db.session.flush()
    detail = f"broadcast {broadcast.id}"
    if broadcast.versions:
        detail += f" (also in {', '.join(v.locale for v in broadcast.versions)})"
    record(organiser, "broadcast.save", detail)
    db.session.commit()
    return broadcast


def _set_versions(broadcast: Broadcast, versions: dict) -> None:
    """Write, change or drop the named other-language versions."""
    kept = {version.locale: version for version in broadcast.versions}
    for locale, text in versions.items():
        version = kept.get(locale)
        if text is None:
            if version is not None:
                broadcast.versions.remove(version)
            continue
        subject, body = text
        if version is None:
            broadcast.versions.append(
                BroadcastVersion(locale=locale, subject=subject, body_markdown=body)
            )
        else:
            version.subject, version.body_markdown = subject, body


def version_for(broadcast: Broadcast, locale: str) -> tuple[str, str, str]:
    """``(locale, subject, body)`` of the version a reader of ``locale`` gets:
    theirs if the broadcast has one, else the English original."""
    for version in broadcast.versions:
        if version.locale == locale:
            return version.locale, version.subject, version.body_markdown
    return ORIGINAL, broadcast.subject, broadcast.body_markdown


def audience_filter(audience: Audience, petition_id: int | None) -> list:
    """Conditions on Subscriber selecting who a broadcast goes to."""
    conditions = [
        Subscriber.state == SubscriberState.SUBSCRIBED,
        ~sa.exists().where(Suppression.email_key == Subscriber.email_key),
    ]
    if audience is Audience.PETITION:
        conditions.append(
            sa.exists().where(
                Signature.petition_id == petition_id,
                Signature.email_hash == Subscriber.email_key,
                Signature.state == SignatureState.VALIDATED,
                Signature.join_list.is_(True),
            )
        )
    return conditions


def recipient_conditions(broadcast: Broadcast) -> list:
    """Conditions on Subscriber selecting a broadcast's recipients: its
    audience, narrowed to its segment (language, country, consent source)."""
    return audience_filter(broadcast.audience, broadcast.petition_id) + (
        segment_conditions(
            locale=broadcast.segment_locale,
            country=broadcast.segment_country,
            source=broadcast.segment_source,
        )
    )


def reach(broadcast: Broadcast) -> int:
    """How many addresses the broadcast would go to if it started now."""
    if broadcast.audience is Audience.PETITION_UPDATES:  # signers, not subscribers
        return update_reach(broadcast.petition_id)
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Subscriber)
        .where(*recipient_conditions(broadcast))
    )


def delete_draft(broadcast: Broadcast, organiser) -> None:
    """Delete a broadcast never scheduled or sent (anything else: NotEditable)."""
    if broadcast.state is not BroadcastState.DRAFT:
        raise NotEditable
    record(organiser, "broadcast.delete", f"broadcast {broadcast.id}")
    db.session.delete(broadcast)
    db.session.commit()


def failures(broadcast_id: int, limit: int = 200) -> list[tuple[str | None, str]]:
    """The copies refused for good: (address, or None if erased; the error)."""
    # Two columns, not SQL's COALESCE: each decrypts under its own purpose.
    rows = db.session.execute(
        sa.select(Subscriber.email, Signature.email, Delivery.error)
        .select_from(Delivery)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .outerjoin(Signature, Signature.id == Delivery.signature_id)
        .where(
            Delivery.broadcast_id == broadcast_id,
            Delivery.state == DeliveryState.FAILED,
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    return [(listed or signed, error) for listed, signed, error in rows]


def schedule(broadcast: Broadcast, send_at: datetime, organiser) -> None:
    """Send the broadcast at ``send_at`` (the beat starts it then)."""
    if broadcast.state not in EDITABLE:
        raise NotEditable
    broadcast.state = BroadcastState.SCHEDULED
    broadcast.send_at = send_at
    record(organiser, "broadcast.schedule", f"broadcast {broadcast.id} at {send_at}")
    db.session.commit()


def cancel(broadcast: Broadcast, organiser) -> int:
    """Stop a broadcast: nothing more is sent; return how many copies were dropped."""
    if broadcast.state in (BroadcastState.SENT, BroadcastState.CANCELLED):
        raise NotEditable
    settle_all(broadcast.id)  # runs still sending stop at their next step
    dropped = db.session.execute(
        sa.update(Delivery)
        .where(
            Delivery.broadcast_id == broadcast.id,
            Delivery.state == DeliveryState.PENDING,
        )
        .values(state=DeliveryState.SKIPPED, claim=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    broadcast.state = BroadcastState.CANCELLED
    broadcast.finished_at = now_utc()
    record(organiser, "broadcast.cancel", f"broadcast {broadcast.id}", dropped)
    db.session.commit()
    return dropped


def start(broadcast_id: int, organiser=None) -> bool:
    """Begin sending: make one ledger row per recipient, once, in one commit.

    Returns False if the broadcast had already started (or was cancelled), so
    starting twice, from two places at once, makes one ledger.
    """
    now = now_utc()
    moved = db.session.execute(
        sa.update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.state.in_(EDITABLE))
        .values(state=BroadcastState.SENDING, started_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.rollback()
        return False
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast.audience is Audience.PETITION_UPDATES:  # signers, not subscribers
        broadcast.recipients = add_signer_deliveries(broadcast)
        record(
            organiser,
            "broadcast.send",
            f"broadcast {broadcast_id}",
            broadcast.recipients,
        )
        db.session.commit()
        return True
    recipients = (
        sa.select(
            sa.literal(broadcast_id),
            Subscriber.id,
            sa.literal(DeliveryState.PENDING.value),
            sa.literal(0),
        )
        .where(*recipient_conditions(broadcast))
        .order_by(Subscriber.id)
    )
    added = db.session.execute(
        sa.insert(Delivery)
        .from_select(["broadcast_id", "subscriber_id", "state", "attempts"], recipients)
        # SQLAlchemy reports an INSERT's row count only when asked to.
        .execution_options(preserve_rowcount=True)
    ).rowcount
    broadcast.recipients = added
    record(organiser, "broadcast.send", f"broadcast {broadcast_id}", added)
    db.session.commit()
    return True


def finish_if_done(broadcast_id: int) -> bool:
    """Mark a sending broadcast SENT once no copy is pending or in flight."""
    if outstanding(broadcast_id):
        return False
    moved = db.session.execute(
        sa.update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.state == BroadcastState.SENDING)
        .values(state=BroadcastState.SENT, finished_at=now_utc())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(moved)


def due_to_start() -> list[int]:
    """Scheduled broadcasts whose time has come."""
    return list(
        db.session.scalars(
            sa.select(Broadcast.id).where(
                Broadcast.state == BroadcastState.SCHEDULED,
                Broadcast.send_at <= now_utc(),
            )
        ).all()
    )


def in_progress() -> list[int]:
    """Broadcasts being sent, which a run may need to finish."""
    return list(
        db.session.scalars(
            sa.select(Broadcast.id).where(Broadcast.state == BroadcastState.SENDING)
        ).all()
    )


def status(broadcast: Broadcast) -> dict:
    """A broadcast's progress, as the organiser page and its JSON show it."""
    counts = progress(broadcast.id)
    total = broadcast.recipients
    done = total - counts["pending"]
    return {
        "id": broadcast.id,
        "state": broadcast.state.value,
        "recipients": total,
        "done": done,
        "percent": round(100 * done / total) if total else 100,
        **counts,
    }
