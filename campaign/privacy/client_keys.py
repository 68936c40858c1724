"""Client-address keys that forget: a keyed hash of the client address under
a key that changes every CLIENT_KEY_HOURS and is lost with its window's salt.

A window's key is HMAC-SHA256(CLIENT_KEY_SECRET, window start | salt), the
salt random and stored in ``client_key_window``, made by the first request
of the window. Within a window the same address gives the same key, so abuse
can be spotted; across windows the keys are unrelated. Retention deletes a
salt after CLIENT_KEY_KEEP_DAYS, and from then on nobody can make that
window's key again, even with the secret, so its keys can never be matched
to an address by trying every IPv4 address. A copy of the database alone
holds the recent salts but not the secret, so it does not give the keys
either. An IPv6 client is keyed by its /64, which one subscriber usually
holds whole; an IPv4 client that a dual-stack socket names ``::ffff:a.b.c.d``
by its IPv4 address (not by the /64 that every such address shares). The
signing and joining limits count per key too (campaign/abuse.py), so
rotating through a /64 escapes neither.
"""

import hashlib
import hmac
import ipaddress
import secrets
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from campaign.extensions import db
from campaign.models import insert_for, now_utc
from campaign.privacy.models import ClientKeyWindow

# Seconds one process keeps the current window's key before reading it again.
CACHE_SECONDS = 60
CACHE = "campaign.client_key"


def client_key(address: str | None, at: datetime | None = None) -> str | None:
    """A keyed hash of the client address (its /64 for IPv6) for the window
    holding ``at`` (default: now); never the raw IP, None without one."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # an IPv4 client as a dual-stack socket names it
    if ip.version == 6:
        ip = ipaddress.ip_network(f"{ip}/64", strict=False).network_address
    key = window_key(window_start(at or now_utc()))
    return hmac.new(key, ip.packed, hashlib.sha256).hexdigest()


def window_start(moment: datetime) -> datetime:
    """The start of the CLIENT_KEY_HOURS window holding ``moment`` (UTC)."""
    length = current_app.config["CLIENT_KEY_HOURS"] * 3600
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % length, UTC)


def window_key(starts_at: datetime) -> bytes:
    """The key of the window starting at ``starts_at``, its salt made if new."""
    cached = current_app.extensions.get(CACHE)
    if cached and cached[0] == starts_at and cached[2] > time.monotonic():
        return cached[1]
    secret = current_app.config["CLIENT_KEY_SECRET"].encode()
    message = b"client key|" + starts_at.isoformat().encode() + b"|"
    key = hmac.new(
        secret, message + bytes.fromhex(_salt(starts_at)), hashlib.sha256
    ).digest()
    current_app.extensions[CACHE] = (starts_at, key, time.monotonic() + CACHE_SECONDS)
    return key


def forget_cached_key() -> None:
    """Drop this process's cached key (after retention deleted salts)."""
    current_app.extensions.pop(CACHE, None)


def _salt(starts_at: datetime) -> str:
    """The window's salt, inserted by whichever process asks first.

    On a connection of its own, committed at once: the salt must outlive a
    request that rolls back, or two processes would key one window apart.
    """
    table = ClientKeyWindow.__table__
    found = sa.select(table.c.salt).where(table.c.starts_at == starts_at)
    with db.engine.begin() as connection:
        salt = connection.scalar(found)
        if salt is None:
            connection.execute(
                insert_for(table, connection.dialect.name)
                .values(starts_at=starts_at, salt=secrets.token_hex(32))
                .on_conflict_do_nothing(index_elements=["starts_at"])
            )
            salt = connection.scalar(found)
    return salt
