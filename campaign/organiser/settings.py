"""Site-wide settings admins change in the organiser area (a key/value table)."""

import sqlalchemy as sa

from campaign.extensions import db
from campaign.models import insert_for
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
    """Change a text setting (None removes it), in the caller's unit of work;
    two organisers changing it at once leave one value, never an error."""
    table = Setting.__table__
    if value is None:
        db.session.execute(sa.delete(table).where(table.c.key == key))
        return
    insert = insert_for(table, db.engine.dialect.name).values(key=key, value=value)
    db.session.execute(
        insert.on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )


def two_factor_required() -> bool:
    """Whether every organiser must sign in with a second factor."""
    return get_flag(REQUIRE_TWO_FACTOR)
