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


def get_value(key: str) -> str | None:
    """A text setting; None when unset."""
    row = db.session.get(Setting, key)
    return row.value if row is not None else None


def set_value(key: str, value: str | None) -> None:
    """Change a text setting (None removes it), in the caller's unit of work."""
    row = db.session.get(Setting, key)
    if value is None:
        if row is not None:
            db.session.delete(row)
        return
    row = row or Setting(key=key)
    row.value = value
    db.session.add(row)


def two_factor_required() -> bool:
    """Whether every organiser must sign in with a second factor."""
    return get_flag(REQUIRE_TWO_FACTOR)
