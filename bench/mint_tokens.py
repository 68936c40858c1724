"""Mint confirmation links for pending signatures, for the confirm scenario.

Run by ``load.py`` with the app's environment, between the sign and confirm
scenarios: ``python bench/mint_tokens.py SLUG COUNT OUT``. Signatures left
pending by the sign scenario are used first; if there are fewer than COUNT,
more pending rows are inserted in one statement so the confirm scenario never
has to repeat a link.
"""

import argparse
import secrets
from pathlib import Path

import sqlalchemy as sa

from campaign import create_app
from campaign.extensions import db
from campaign.petition.models import Signature, SignatureState
from campaign.petition.services import get_petition
from campaign.petition.tokens import confirmation_token

TOP_UP = sa.text(
    """
    INSERT INTO signature (petition_id, name, email, canonical_email, country,
                           join_list, public, state, locale, notified_at,
                           created_at, updated_at)
    SELECT :petition_id, 'Bench Confirmer', address, address, 'GB',
           false, false, 'pending', 'en', now(), now(), now()
    FROM (SELECT :tag || '-' || n || '@bench.example' AS address
          FROM generate_series(1, :count) AS n) AS addresses
    """
)


def parse_args() -> argparse.Namespace:
    """Read the petition slug, how many links to mint and where to write them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slug")
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    return parser.parse_args()


def pending_query(petition_id: int, count: int) -> sa.Select:
    """The oldest pending signatures of a petition."""
    return (
        sa.select(Signature)
        .where(
            Signature.petition_id == petition_id,
            Signature.state == SignatureState.PENDING,
        )
        .order_by(Signature.id)
        .limit(count)
    )


def top_up(petition_id: int, count: int) -> int:
    """Make sure the petition has at least ``count`` pending signatures."""
    have = db.session.scalar(
        sa.select(sa.func.count()).where(
            Signature.petition_id == petition_id,
            Signature.state == SignatureState.PENDING,
        )
    )
    missing = max(0, count - have)
    if missing:
        tag = f"confirm-{secrets.token_hex(4)}"
        params = {"petition_id": petition_id, "tag": tag, "count": missing}
        db.session.execute(TOP_UP, params)
        db.session.commit()
    return missing


def main() -> None:
    """Write one confirmation token per line for ``count`` pending signatures."""
    args = parse_args()
    app = create_app()
    with app.app_context():
        petition = get_petition(args.slug)
        if petition is None:
            raise SystemExit(f"No petition {args.slug!r}: was the database seeded?")
        added = top_up(petition.id, args.count)
        signatures = db.session.scalars(pending_query(petition.id, args.count))
        tokens = [confirmation_token(signature) for signature in signatures]
        db.engine.dispose()
    args.out.write_text("\n".join(tokens) + "\n")
    print(f"minted {len(tokens)} tokens ({added} extra pending rows inserted)")


if __name__ == "__main__":
    main()
