"""Server-side organiser sessions: start, load (with idle and absolute
expiry), end one, end an account's others or all."""

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from campaign.extensions import db
from campaign.models import now_utc
from campaign.organiser.models import Organiser, OrganiserSession

# last_seen_at is written at most this often per session. Writing it on every
# request would turn each page view (and each broadcast progress poll) into an
# UPDATE and a commit on a row every tab of that session contends for; idle
# expiry only needs to know the last activity to within a minute.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    """The idle and absolute lifetimes of a session, from the config."""
    config = current_app.config
    return (
        timedelta(minutes=config["ORGANISER_SESSION_IDLE_MINUTES"]),
        timedelta(hours=config["ORGANISER_SESSION_MAX_HOURS"]),
    )


def _expired(row: OrganiserSession, now: datetime) -> bool:
    """Whether a session has been idle too long or lived too long."""
    idle, longest = _limits()
    return row.last_seen_at < now - idle or row.created_at < now - longest


def start_session(organiser: Organiser) -> str:
    """Sign a browser in: a new session row; returns the token for its cookie."""
    purge_expired()
    token = secrets.token_urlsafe(32)
    now = now_utc()
    db.session.add(
        OrganiserSession(
            token_hash=_digest(token),
            organiser_id=organiser.id,
            created_at=now,
            last_seen_at=now,
        )
    )
    organiser.last_login_at = now
    db.session.commit()
    organiser.session_token = token
    return token


def load_session(token: str) -> Organiser | None:
    """The active organiser a session token names, if that session is live."""
    row = db.session.scalar(
        sa.select(OrganiserSession)
        .filter_by(token_hash=_digest(token))
        .options(joinedload(OrganiserSession.organiser))
    )
    if row is None or not row.organiser.active:
        return None
    now = now_utc()
    if _expired(row, now):
        db.session.delete(row)
        db.session.commit()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    organiser = row.organiser
    organiser.session_token = token
    return organiser


def end_session(token: str | None) -> None:
    """Sign one browser out: its session row goes."""
    if token:
        db.session.execute(
            sa.delete(OrganiserSession).filter_by(token_hash=_digest(token))
        )
        db.session.commit()


def end_sessions(organiser: Organiser, keep: str | None = None) -> None:
    """End every session of an account (but ``keep``), in the caller's unit."""
    query = sa.delete(OrganiserSession).filter_by(organiser_id=organiser.id)
    if keep:
        query = query.where(OrganiserSession.token_hash != _digest(keep))
    db.session.execute(query)


def purge_expired() -> None:
    """Delete every session past its idle or absolute lifetime."""
    idle, longest = _limits()
    now = now_utc()
    db.session.execute(
        sa.delete(OrganiserSession).where(
            sa.or_(
                OrganiserSession.last_seen_at < now - idle,
                OrganiserSession.created_at < now - longest,
            )
        )
    )
