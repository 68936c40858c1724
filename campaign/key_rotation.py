"""Key rotation: every encrypted value re-sealed under the first key of
ENCRYPTION_KEYS (``flask campaign rotate-keys``), in batches, audited.

After putting a new key first, run this; once it reports nothing left under
an older key, that key can be dropped from ENCRYPTION_KEYS.
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
            stale = {
                column.name: ring.encrypt(
                    ring.decrypt(value, column.type.context), column.type.context
                )
                for column, value in zip(columns, row[1:], strict=True)
                if value is not None and not ring.is_current(value)
            }
            if stale:
                db.session.execute(
                    table.update()
                    .where(table.c.id == row.id)
                    .values(
                        {
                            name: sa.bindparam(None, value, type_=sa.LargeBinary)
                            for name, value in stale.items()
                        }
                    )
                )
                changed += len(stale)
        db.session.commit()
        last = rows[-1].id


def rotate_keys() -> dict[str, int]:
    """Re-seal every value under the first key; the values changed per table."""
    counts = {
        table.name: _rotate_table(table, columns)
        for table, columns in encrypted_columns().items()
    }
    detail = " ".join(f"{name}={count}" for name, count in counts.items())
    audit(None, "rotate-keys", detail, rows=sum(counts.values()))
    return counts
