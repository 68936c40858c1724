"""Trending client addresses and email domains among a petition's latest
signatures, for organisers spotting abuse (campaign/abuse.py keeps it out).

Each list is one grouped query over a time window on ``created_at``, read
through the (petition_id, created_at) index, so it costs what the window
holds, not what the petition holds. Addresses are client keys (keyed hashes,
campaign/privacy): the same key means the same address within a key's
window, never the address itself. Domains are grouped by their keyed hash
(``domain_key``); the domain shown is read from one signature of each group.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from campaign.extensions import db
from campaign.models import now_utc
from campaign.petition.models import Petition, Signature

# The windows the dashboard shows, and how many of each list.
WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
TOP = 5


@dataclass(frozen=True)
class Trend:
    """One address or domain and how many signatures came from it."""

    key: str
    count: int
    domain: str | None = None


def _top(petition: Petition, column, since) -> list[tuple[str, int]]:
    """The TOP values of ``column`` among the petition's signatures since then."""
    n = sa.func.count().label("n")
    rows = db.session.execute(
        sa.select(column, n)
        .where(
            Signature.petition_id == petition.id,
            Signature.created_at >= since,
            column.is_not(None),
        )
        .group_by(column)
        .order_by(n.desc(), column)
        .limit(TOP)
    )
    return [(key, count) for key, count in rows]


def trending_addresses(petition: Petition, window: str) -> list[Trend]:
    """The client keys most signatures came from in the last hour or day."""
    since = now_utc() - WINDOWS[window]
    return [Trend(key, n) for key, n in _top(petition, Signature.ip_key, since)]


def trending_domains(petition: Petition, window: str) -> list[Trend]:
    """The email domains most signatures came from in the last hour or day."""
    since = now_utc() - WINDOWS[window]
    top = _top(petition, Signature.domain_key, since)
    return [Trend(key, n, _domain_of(petition, key)) for key, n in top]


def _domain_of(petition: Petition, domain_key: str) -> str | None:
    """The domain a domain key stands for, read from one of its signatures."""
    email = db.session.scalar(
        sa.select(Signature.email)
        .where(Signature.petition_id == petition.id, Signature.domain_key == domain_key)
        .limit(1)
    )
    return email.rsplit("@", 1)[1].lower() if email and "@" in email else None


def trends(petition: Petition) -> dict[str, dict[str, list[Trend]]]:
    """Both lists for both windows: {"addresses": {"hour": …, "day": …}, …}."""
    return {
        "addresses": {w: trending_addresses(petition, w) for w in WINDOWS},
        "domains": {w: trending_domains(petition, w) for w in WINDOWS},
    }
