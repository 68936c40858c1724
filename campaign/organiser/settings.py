"""Site-wide settings admins change in the organiser area (a key/value table)."""

from campaign.extensions import db
from campaign.organiser.models import Setting

REQUIRE_TWO_FACTOR = "require_two_factor"


def get_flag(key: str) -> bool:
    """A yes/no setting; unset is no."""
    row = db.session.get(Setting, key)
    return row is not None and row.value == "1"


def set_flag(key: str, on: bool) -> None:
    """Change a yes/no setting, in the caller's unit of work."""
    row = db.session.get(Setting, key) or Setting(key=key)
    row.value = "1" if on else "0"
    db.session.add(row)


def two_factor_required() -> bool:
    """Whether every organiser must sign in with a second factor."""
    return get_flag(REQUIRE_TWO_FACTOR)
