"""Two-factor sign-in: TOTP enrolment and codes (pyotp), the QR code (segno),
one-time recovery codes."""

import hashlib
import secrets

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from pyotp.exceptions import OTPVerificationError

from campaign.extensions import db
from campaign.models import now_utc
from campaign.organiser.models import Organiser, RecoveryCode

RECOVERY_CODES = 10
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # no 0 or 1 to mistake for O or I
# Accept the code before and after the current one: phones' clocks drift.
VALID_WINDOW = 1


def _code_hash(code: str) -> str:
    """What the database keeps of a recovery code (80 random bits: no salt)."""
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _normalise(code: str) -> str:
    """A code as typed, without spaces, dashes or case."""
    return "".join(code.split()).replace("-", "").upper()


def start_enrolment(organiser: Organiser) -> str:
    """The secret to enrol with: kept until confirmed, so a reload shows it again."""
    if organiser.totp_secret is None or organiser.two_factor_on:
        organiser.totp_secret = pyotp.random_base32()
        organiser.totp_last_step = None
        db.session.commit()
    return organiser.totp_secret


def qr_svg(organiser: Organiser) -> str:
    """The enrolment QR code as an inline SVG (never an image from elsewhere)."""
    uri = pyotp.TOTP(organiser.totp_secret).provisioning_uri(
        name=organiser.email, issuer_name=current_app.config["SITE_NAME"]
    )
    return segno.make(uri, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", title="QR"
    )


def _accept_totp(organiser: Organiser, code: str) -> bool:
    """Whether ``code`` is a current TOTP code not used before (then mark it)."""
    code = _normalise(code)
    if not organiser.totp_secret or len(code) != 6 or not code.isdigit():
        return False
    try:
        step = pyotp.TOTP(organiser.totp_secret).verify_and_get_timecode(
            code, valid_window=VALID_WINDOW
        )
    except OTPVerificationError:
        return False
    # One UPDATE that only moves forward: a code seen once (even by two
    # requests racing) is never accepted again.
    taken = db.session.execute(
        sa.update(Organiser)
        .where(
            Organiser.id == organiser.id,
            sa.or_(
                Organiser.totp_last_step.is_(None),
                Organiser.totp_last_step < step,
            ),
        )
        .values(totp_last_step=step)
    )
    return taken.rowcount == 1


def _use_recovery_code(organiser: Organiser, code: str) -> bool:
    """Spend a recovery code: true only the first time it is used."""
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.organiser_id == organiser.id,
            RecoveryCode.code_hash == _code_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now_utc())
    )
    return used.rowcount == 1


def verify(organiser: Organiser, code: str, recovery: bool = True) -> bool:
    """Check a code (TOTP, or a recovery code if allowed), in the caller's unit."""
    if not organiser.two_factor_on:
        return False
    return _accept_totp(organiser, code) or (
        recovery and _use_recovery_code(organiser, code)
    )


def new_recovery_codes(organiser: Organiser) -> list[str]:
    """Replace an account's recovery codes; the codes are shown once, then lost."""
    db.session.execute(sa.delete(RecoveryCode).filter_by(organiser_id=organiser.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(BASE32) for _ in range(16))  # 80 bits
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    db.session.add_all(
        RecoveryCode(organiser_id=organiser.id, code_hash=_code_hash(c)) for c in codes
    )
    return codes


def confirm_enrolment(organiser: Organiser, code: str) -> list[str] | None:
    """Turn two-factor on if ``code`` matches the secret; the recovery codes."""
    if organiser.two_factor_on or not _accept_totp(organiser, code):
        return None
    organiser.two_factor_on = True
    return new_recovery_codes(organiser)


def turn_off(organiser: Organiser, code: str) -> bool:
    """Turn two-factor off, if ``code`` (TOTP or recovery) is right."""
    if not verify(organiser, code):
        return False
    organiser.two_factor_on = False
    organiser.totp_secret = None
    organiser.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).filter_by(organiser_id=organiser.id))
    return True


def recovery_codes_left(organiser: Organiser) -> int:
    """How many unused recovery codes an account has."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .filter_by(organiser_id=organiser.id, used_at=None)
    )
