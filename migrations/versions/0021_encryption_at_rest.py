"""encryption at rest: personal columns sealed, found by keyed hashes

Names, emails and comments of signers, subscribers and donors, and
organisers' TOTP secrets, become AES-GCM ciphertext (campaign/encryption.py)
under the running app's ENCRYPTION_KEYS; lookups move to HMAC hashes under
HASH_KEY (``signature.email_hash``/``domain_key``, ``subscriber.email_key``,
``donation``/``monthly_gift.email_hash``). Suppression rows are re-keyed from
the old SECRET_KEY hash to ``email_hash`` wherever a stored address makes it
computable; the rest (erased people) keep the old key, which
``campaign.mailing.services.legacy_suppression_key`` still matches.

Rows are rewritten in batches through Core with the ``Encrypted`` type, in
the app context the migration runs in (``flask db upgrade``). The downgrade
decrypts back to plaintext columns.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 15:00:00.000000

"""
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

from campaign.encryption import Encrypted, domain_hash, email_hash
from campaign.text import canonical_email


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

BATCH = 1000
# table: (the encrypted columns, and whether each may be NULL)
SEALED = {
    'signature': {'name': False, 'email': False, 'comment': True},
    'subscriber': {'email': False, 'name': True},
    'donation': {'email': True, 'name': True},
    'monthly_gift': {'email': True, 'name': True},
    'organiser': {'totp_secret': True},
}
PLAIN_LENGTH = {'name': 255, 'email': 320, 'totp_secret': 64}


def _plain_type(column):
    """The column's type before 0021."""
    return sa.Text() if column == 'comment' else sa.String(length=PLAIN_LENGTH[column])


def _legacy_key(email):
    """The suppression hash before 0021: HMAC of the canonical address under
    SECRET_KEY (as campaign.mailing.services.legacy_suppression_key)."""
    key = current_app.config['SECRET_KEY'].encode()
    return hmac.new(key, canonical_email(email).encode(), hashlib.sha256).hexdigest()


def _rows(connection, table, columns):
    """Every row of ``table``'s ``columns`` (with id), a batch at a time."""
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, *(table.c[name] for name in columns))
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _rekey_suppressions(connection, emails, old_key, new_key):
    """Move suppression rows from ``old_key(address)`` to ``new_key(address)``
    for every address given (one already moved, or a clash, is merged)."""
    suppression = sa.table(
        'suppression', sa.column('email_key'), sa.column('reason')
    )
    pairs = {}
    for email in emails:
        pairs[old_key(email)] = new_key(email)
    olds = list(pairs)
    for start in range(0, len(olds), BATCH):
        chunk = olds[start : start + BATCH]
        found = connection.execute(
            sa.select(suppression.c.email_key, suppression.c.reason).where(
                suppression.c.email_key.in_(chunk)
            )
        ).all()
        for old, reason in found:
            new = pairs[old]
            if new == old:
                continue
            taken = connection.scalar(
                sa.select(suppression.c.reason).where(suppression.c.email_key == new)
            )
            if taken is None:
                connection.execute(
                    suppression.update()
                    .where(suppression.c.email_key == old)
                    .values(email_key=new)
                )
                continue
            if taken == 'unsubscribed' and reason != 'unsubscribed':
                connection.execute(
                    suppression.update()
                    .where(suppression.c.email_key == new)
                    .values(reason=reason)
                )
            connection.execute(
                suppression.delete().where(suppression.c.email_key == old)
            )


def _stored_addresses(connection, sealed):
    """Every address the database holds (read through ``sealed``'s types)."""
    found = set()
    for name in ('signature', 'subscriber', 'donation', 'monthly_gift'):
        column = (
            sa.column('email', Encrypted(f'{name}.email'))
            if sealed
            else sa.column('email')
        )
        table = sa.table(name, sa.column('id'), column)
        for rows in _rows(connection, table, ['email']):
            found.update(row.email for row in rows if row.email)
    return found


def upgrade():
    connection = op.get_bind()
    for name, columns in SEALED.items():
        with op.batch_alter_table(name, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(
                    sa.Column(f'{column}_sealed', sa.LargeBinary(), nullable=True)
                )
            if name in ('signature', 'donation', 'monthly_gift'):
                batch_op.add_column(
                    sa.Column('email_hash', sa.String(length=64), nullable=True)
                )
            if name == 'signature':
                batch_op.add_column(
                    sa.Column('domain_key', sa.String(length=64), nullable=True)
                )

    for name, columns in SEALED.items():
        source = [sa.column(column) for column in columns]
        target = [
            sa.column(f'{column}_sealed', Encrypted(f'{name}.{column}'))
            for column in columns
        ]
        if name == 'signature':

            def extra(row):
                # An anonymised signature (campaign/retention/) keeps no
                # address, so no hash: NULLs never collide.
                if not row.email:
                    return {'email_hash': None, 'domain_key': None}
                return {
                    'email_hash': email_hash(row.email),
                    'domain_key': domain_hash(row.email),
                }

            target_extra = [sa.column('email_hash'), sa.column('domain_key')]
        elif name == 'subscriber':

            def extra(row):
                return {'email_key': email_hash(row.email)}

            target_extra = [sa.column('email_key')]
        elif name in ('donation', 'monthly_gift'):

            def extra(row):
                return {'email_hash': email_hash(row.email) if row.email else None}

            target_extra = [sa.column('email_hash')]
        else:

            def extra(row):
                return {}

            target_extra = []
        _rewrite_with(connection, name, source, target, target_extra, extra)

    _rekey_suppressions(
        connection, _stored_addresses(connection, sealed=False), _legacy_key,
        email_hash,
    )

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_constraint(
            'uq_signature_petition_id_canonical_email', type_='unique'
        )
        batch_op.drop_column('canonical_email')
        _swap(batch_op, 'signature')
        batch_op.create_unique_constraint(
            batch_op.f('uq_signature_petition_id_email_hash'),
            ['petition_id', 'email_hash'],
        )
        batch_op.create_index(
            batch_op.f('ix_signature_domain_key'), ['domain_key'], unique=False
        )
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_constraint('uq_subscriber_canonical_email', type_='unique')
        batch_op.drop_index('ix_subscriber_email_key')
        batch_op.drop_column('canonical_email')
        _swap(batch_op, 'subscriber')
        batch_op.create_unique_constraint(
            batch_op.f('uq_subscriber_email_key'), ['email_key']
        )
    for name in ('donation', 'monthly_gift'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{name}_email')
            _swap(batch_op, name)
            batch_op.create_index(
                batch_op.f(f'ix_{name}_email_hash'), ['email_hash'], unique=False
            )
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        _swap(batch_op, 'organiser')


def _rewrite_with(connection, name, source, target, target_extra, extra):
    """Copy each row's ``source`` columns into ``target`` (one each, in order,
    each through its column type: encrypting or decrypting) and set
    ``extra(row)`` into ``target_extra``, a batch of rows per statement."""
    table = sa.table(name, sa.column('id'), *source, *target, *target_extra)
    names = [column.name for column in source]
    for rows in _rows(connection, table, names):
        values = []
        for row in rows:
            value = {'b_id': row.id}
            for index, column in enumerate(target):
                text = row[index + 1]
                value[f'b_{column.name}'] = text
            value.update({f'b_{key}': v for key, v in extra(row).items()})
            values.append(value)
        connection.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam('b_id'))
            .values(
                {
                    key[2:]: sa.bindparam(key, type_=table.c[key[2:]].type)
                    for key in values[0]
                    if key != 'b_id'
                }
            ),
            values,
        )


def _swap(batch_op, name):
    """Drop the plaintext columns and put the sealed ones in their place."""
    for column, nullable in SEALED[name].items():
        batch_op.drop_column(column)
        batch_op.alter_column(
            f'{column}_sealed',
            new_column_name=column,
            existing_type=sa.LargeBinary(),
            nullable=nullable,
        )


def _unswap(batch_op, name):
    """Drop the sealed columns and put the plaintext ones back."""
    for column, nullable in SEALED[name].items():
        batch_op.drop_column(column)
        batch_op.alter_column(
            f'{column}_plain',
            new_column_name=column,
            existing_type=_plain_type(column),
            nullable=nullable,
        )


def downgrade():
    connection = op.get_bind()
    for name, columns in SEALED.items():
        with op.batch_alter_table(name, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(
                    sa.Column(f'{column}_plain', _plain_type(column), nullable=True)
                )
            if name in ('signature', 'subscriber'):
                batch_op.add_column(
                    sa.Column('canonical_email', sa.String(length=320), nullable=True)
                )

    for name, columns in SEALED.items():
        source = [
            sa.column(column, Encrypted(f'{name}.{column}')) for column in columns
        ]
        target = [sa.column(f'{column}_plain') for column in columns]
        if name == 'signature':

            def extra(row):
                # An anonymised signature has no address: it gets back the
                # placeholder retention gave it before 0021, unique to the row
                # (one '@' each would break the one-per-address constraint).
                if not row.email:
                    return {'canonical_email': f'anonymised:{row.id}'}
                return {'canonical_email': canonical_email(row.email)}

            target_extra = [sa.column('canonical_email')]
        elif name == 'subscriber':

            def extra(row):
                return {
                    'canonical_email': canonical_email(row.email),
                    'email_key': _legacy_key(row.email),
                }

            target_extra = [sa.column('canonical_email'), sa.column('email_key')]
        else:

            def extra(row):
                return {}

            target_extra = []
        _rewrite_with(connection, name, source, target, target_extra, extra)

    _rekey_suppressions(
        connection, _stored_addresses(connection, sealed=True), email_hash,
        _legacy_key,
    )

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_domain_key'))
        batch_op.drop_constraint(
            'uq_signature_petition_id_email_hash', type_='unique'
        )
        batch_op.drop_column('domain_key')
        batch_op.drop_column('email_hash')
        _unswap(batch_op, 'signature')
        batch_op.alter_column(
            'canonical_email', existing_type=sa.String(length=320), nullable=False
        )
        batch_op.create_unique_constraint(
            'uq_signature_petition_id_canonical_email',
            ['petition_id', 'canonical_email'],
        )
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_constraint('uq_subscriber_email_key', type_='unique')
        _unswap(batch_op, 'subscriber')
        batch_op.alter_column(
            'canonical_email', existing_type=sa.String(length=320), nullable=False
        )
        batch_op.create_unique_constraint(
            'uq_subscriber_canonical_email', ['canonical_email']
        )
        batch_op.create_index('ix_subscriber_email_key', ['email_key'], unique=False)
    for name in ('donation', 'monthly_gift'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{name}_email_hash'))
            batch_op.drop_column('email_hash')
            _unswap(batch_op, name)
        # Its own step: SQLite's batch cannot index a column it renames.
        op.create_index(f'ix_{name}_email', name, ['email'], unique=False)
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        _unswap(batch_op, 'organiser')
