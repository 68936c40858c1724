"""Mint confirmation links for pending signatures, for the confirm scenario.

Run by ``load.py`` with the app's environment, between the sign and confirm
scenarios: ``python bench/mint_tokens.py SLUG COUNT OUT``. Signatures left
pending by the sign scenario are used first; if there are fewer than COUNT,
more pending rows are inserted in one bulk insert through the model (so their
name and email are encrypted and their hashes are the app's) and the confirm
scenario never has to repeat a link.
"""

import argparse
import secrets
from pathlib import Path

import sqlalchemy as sa

from campaign import create_app
from campaign.encryption import domain_hash, email_hash
from campaign.extensions import db
from campaign.models import now_utc
from campaign.petition.models import Signature, SignatureState
from campaign.petition.services import get_petition
from campaign.petition.tokens import confirmation_token


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
        db.session.execute(sa.insert(Signature), pending_rows(petition_id, missing))
        db.session.commit()
    return missing


def pending_rows(petition_id: int, count: int) -> list[dict]:
    """``count`` new pending signatures as the sign form would store them.

    ``sa.insert(Signature)`` with these dicts is one executemany whose bind
    step encrypts name and email (``Encrypted``); the hashes are computed here
    because the link tokens carry ``email_hash``. No email is due
    (``notice`` stays NULL), as for a signer already sent their link.
    """
    tag = f"confirm-{secrets.token_hex(4)}"
    now = now_utc()
    rows = []
    for number in range(1, count + 1):
        address = f"{tag}-{number}@bench.example"
        rows.append(
            {
                "petition_id": petition_id,
                "name": "Bench Confirmer",
                "email": address,
                "email_hash": email_hash(address),
                "domain_key": domain_hash(address),
                "country": "GB",
                "join_list": False,
                "public": False,
                "state": SignatureState.PENDING,
                "locale": "en",
                "notified_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


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
