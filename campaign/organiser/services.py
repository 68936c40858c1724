"""Organiser accounts: create, authenticate, change password."""

import functools

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from campaign.audit import record
from campaign.extensions import db
from campaign.models import now_utc
from campaign.organiser.models import Organiser, new_session_token
from campaign.permissions import Role

MIN_PASSWORD = 12


class LoginFailed(Exception):
    """Unknown email or wrong password: deliberately the same failure."""


class AccountError(ValueError):
    """An account change that cannot be made, with a message for the organiser."""


@functools.cache
def _decoy_hash() -> str:
    """A hash to check against when the email is unknown, so timing tells nothing."""
    return generate_password_hash("decoy password, never valid")


def get_organiser(organiser_id: int) -> Organiser | None:
    """One organiser account, by id."""
    return db.session.get(Organiser, organiser_id)


def find_organiser(email: str) -> Organiser | None:
    """The organiser with this email (emails are stored lower-cased)."""
    return db.session.scalar(
        sa.select(Organiser).filter_by(email=email.strip().lower())
    )


def load_by_session_token(token: str) -> Organiser | None:
    """The active organiser a session names, for Flask-Login."""
    return db.session.scalar(
        sa.select(Organiser).filter_by(session_token=token, active=True)
    )


def create_organiser(
    email: str, password: str, role: Role = Role.STAFF, by: Organiser | None = None
) -> Organiser:
    """Add an organiser (audited when an admin does it); scrypt hash only."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError("Enter the organiser's email address.")
    if find_organiser(email):
        raise AccountError(f"There is already an organiser {email}.")
    check_password_strength(password)
    organiser = Organiser(
        email=email, password_hash=generate_password_hash(password), role=role
    )
    db.session.add(organiser)
    if by is not None:
        record(by, "add-organiser", email)
    db.session.commit()
    return organiser


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Use at least {MIN_PASSWORD} characters.")


def authenticate(email: str, password: str) -> Organiser:
    """The active organiser with these credentials, or LoginFailed."""
    organiser = find_organiser(email)
    if organiser is None or not organiser.active:
        check_password_hash(_decoy_hash(), password)
        raise LoginFailed
    if not check_password_hash(organiser.password_hash, password):
        raise LoginFailed
    organiser.last_login_at = now_utc()
    db.session.commit()
    return organiser


def change_password(organiser: Organiser, current: str, new: str) -> None:
    """Set a new password and end every other session of this organiser."""
    if not check_password_hash(organiser.password_hash, current):
        raise AccountError("Your current password is not right.")
    check_password_strength(new)
    organiser.password_hash = generate_password_hash(new)
    organiser.session_token = new_session_token()
    db.session.commit()


def all_organisers() -> list[Organiser]:
    """Every organiser account, by email."""
    return list(db.session.scalars(sa.select(Organiser).order_by(Organiser.email)))


def set_active(organiser: Organiser, active: bool, by: Organiser) -> None:
    """Turn an account on or off; turning it off ends its sessions."""
    if organiser.id == by.id:
        raise AccountError("You cannot switch off your own account.")
    organiser.active = active
    if not active:
        organiser.session_token = new_session_token()
    record(by, "activate" if active else "deactivate", organiser.email)
    db.session.commit()
