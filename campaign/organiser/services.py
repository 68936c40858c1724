"""Organiser accounts: create, authenticate, change password, role, two-factor."""

import functools

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from campaign.audit import record
from campaign.extensions import db
from campaign.organiser import settings, two_factor
from campaign.organiser.models import Organiser
from campaign.organiser.passwords import password_problem
from campaign.organiser.sessions import end_sessions
from campaign.permissions import Role


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


def create_organiser(
    email: str, password: str, role: Role = Role.STAFF, by: Organiser | None = None
) -> Organiser:
    """Add an organiser (audited when an admin does it); scrypt hash only."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(_("Enter the organiser's email address."))
    if find_organiser(email):
        raise AccountError(_("There is already an organiser %(email)s.", email=email))
    check_password_strength(password, email)
    organiser = Organiser(
        email=email, password_hash=generate_password_hash(password), role=role
    )
    db.session.add(organiser)
    if by is not None:
        record(by, "add-organiser", email)
    db.session.commit()
    return organiser


def check_password_strength(password: str, email: str) -> None:
    """Refuse passwords that are short or guessable, saying why."""
    words = (email, email.split("@")[0], current_app.config["SITE_NAME"])
    problem = password_problem(password, words)
    if problem:
        raise AccountError(problem)


def authenticate(email: str, password: str) -> Organiser:
    """The active organiser with these credentials, or LoginFailed."""
    organiser = find_organiser(email)
    if organiser is None or not organiser.active:
        check_password_hash(_decoy_hash(), password)
        raise LoginFailed
    if not check_password_hash(organiser.password_hash, password):
        raise LoginFailed
    return organiser


def change_password(organiser: Organiser, current: str, new: str) -> None:
    """Set a new password and end every other session of this organiser."""
    if not check_password_hash(organiser.password_hash, current):
        raise AccountError(_("Your current password is not right."))
    check_password_strength(new, organiser.email)
    organiser.password_hash = generate_password_hash(new)
    end_sessions(organiser, keep=organiser.session_token)
    record(organiser, "change-password", organiser.email)
    db.session.commit()


def all_organisers() -> list[Organiser]:
    """Every organiser account, by email."""
    return list(db.session.scalars(sa.select(Organiser).order_by(Organiser.email)))


def set_active(organiser: Organiser, active: bool, by: Organiser) -> None:
    """Turn an account on or off; turning it off ends its sessions."""
    if organiser.id == by.id:
        raise AccountError(_("You cannot switch off your own account."))
    organiser.active = active
    if not active:
        end_sessions(organiser)
    record(by, "activate" if active else "deactivate", organiser.email)
    db.session.commit()


def change_role(organiser: Organiser, role: Role, by: Organiser) -> None:
    """Give an account another role; its sessions end, so it signs in anew."""
    if organiser.id == by.id:
        # Otherwise the last admin could take the site's accounts out of reach.
        raise AccountError(_("You cannot change your own role."))
    if organiser.role is role:
        return
    record(
        by, "change-role", f"{organiser.email}: {organiser.role.value} -> {role.value}"
    )
    organiser.role = role
    end_sessions(organiser)
    db.session.commit()


def confirm_two_factor(organiser: Organiser, code: str) -> list[str] | None:
    """Turn on two-factor with a first code; the recovery codes, shown once."""
    codes = two_factor.confirm_enrolment(organiser, code)
    if codes:
        record(organiser, "two-factor-on", organiser.email)
    db.session.commit()
    return codes


def turn_off_two_factor(organiser: Organiser, code: str) -> bool:
    """Turn off two-factor, if the code is right."""
    done = two_factor.turn_off(organiser, code)
    if done:
        record(organiser, "two-factor-off", organiser.email)
    db.session.commit()
    return done


def check_sign_in_code(organiser: Organiser, code: str) -> bool:
    """The second step of signing in: a TOTP code or an unused recovery code."""
    ok = two_factor.verify(organiser, code)
    db.session.commit()
    return ok


def require_two_factor(on: bool, by: Organiser) -> None:
    """Require (or stop requiring) two-factor sign-in of every organiser."""
    if settings.two_factor_required() is on:
        return
    settings.set_flag(settings.REQUIRE_TWO_FACTOR, on)
    record(by, "change-setting", f"require two-factor: {'on' if on else 'off'}")
    db.session.commit()
