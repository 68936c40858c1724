"""Key rotation: every encrypted value re-sealed under the first key of
ENCRYPTION_KEYS (``flask campaign rotate-keys``), in batches, audited.

After putting a new key first, run this; once it reports nothing left under
an older key, that key can be dropped from ENCRYPTION_KEYS. Each value is
written back only if it is still the one read, so an erasure, retention or
an edit made meanwhile is never undone.
"""

import sqlalchemy as sa

from campaign.audit import audit
from campaign.encryption import Encrypted, key_ring
from campaign.extensions import db

BATCH = 1000


def encrypted_columns() -> dict[sa.Table, list[sa.Column]]:
    """Each table with encrypted columns, and those columns (from the models)."""
    found = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, Encrypted)]
        if columns:
            found[table] = columns
    return found


def _rotate_table(table: sa.Table, columns: list[sa.Column]) -> int:
    """Re-seal the values of ``table`` not under the first key; how many."""
    ring, changed, last = key_ring(), 0, 0
    raw = [
        sa.type_coerce(column, sa.LargeBinary).label(column.name) for column in columns
    ]
    while True:
        rows = db.session.execute(
            sa.select(table.c.id, *raw)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return changed
        for row in rows:
            for column, value in zip(columns, row[1:], strict=True):
                if value is not None and not ring.is_current(value):
                    context = column.type.context
                    fresh = ring.encrypt(ring.decrypt(value, context), context)
                    changed += _reseal(table, column, row.id, value, fresh)
        db.session.commit()
        last = rows[-1].id


def _reseal(
    table: sa.Table, column: sa.Column, row_id: int, old: bytes, new: bytes
) -> int:
    """Put ``new`` in one cell if it still holds ``old``: 1 if so, else 0.

    Between the read and this write an erasure, retention or the supporter's
    own edit may have changed or cleared the value; writing the old one back
    re-sealed would bring back what was removed, so a changed cell is left
    alone. One UPDATE per cell, not per row, so a row's other values are
    still re-sealed: a row has at most three encrypted columns today, and
    rotation is a rare command an operator runs.
    """
    raw = sa.type_coerce(column, sa.LargeBinary)
    return db.session.execute(
        table.update()
        .where(
            table.c.id == row_id,
            raw == sa.bindparam(None, old, type_=sa.LargeBinary),
        )
        .values({column.name: sa.bindparam(None, new, type_=sa.LargeBinary)})
    ).rowcount


def rotate_keys() -> dict[str, int]:
    """Re-seal every value under the first key; the values changed per table."""
    counts = {
        table.name: _rotate_table(table, columns)
        for table, columns in encrypted_columns().items()
    }
    detail = " ".join(f"{name}={count}" for name, count in counts.items())
    audit(None, "rotate-keys", detail, rows=sum(counts.values()))
    return counts
