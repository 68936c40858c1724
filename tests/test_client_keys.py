"""Client-address keys: one key per window, forgotten with the window's salt."""

import hashlib
import hmac
import ipaddress
import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from campaign.extensions import db
from campaign.petition.models import Signature
from campaign.privacy import client_keys
from campaign.privacy.client_keys import client_key
from campaign.privacy.models import ClientKeyWindow
from campaign.retention.services import apply_retention
from tests.helpers import sign

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ADDRESS = "203.0.113.7"


def test_the_same_address_in_the_same_window_has_the_same_key(app):
    with app.app_context():
        first = client_key(ADDRESS, NOON)
        assert client_key(ADDRESS, NOON + timedelta(hours=11)) == first
        assert client_key("203.0.113.8", NOON) != first
        assert len(first) == 64 and ADDRESS not in first


def test_an_ipv6_client_is_keyed_by_its_64(app):
    with app.app_context():
        key = client_key("2001:db8:1:2::1", NOON)
        assert client_key("2001:db8:1:2:ffff::9", NOON) == key
        assert client_key("2001:db8:1:3::1", NOON) != key


def test_an_ipv4_client_on_a_dual_stack_socket_is_keyed_by_its_address(app):
    with app.app_context():
        key = client_key(ADDRESS, NOON)
        assert client_key(f"::ffff:{ADDRESS}", NOON) == key
        assert client_key("::ffff:198.51.100.1", NOON) != key


def test_no_or_bad_address_gives_no_key(app):
    with app.app_context():
        assert client_key(None) is None and client_key("not an address") is None


def test_the_next_window_has_another_key(app):
    with app.app_context():
        assert client_key(ADDRESS, NOON) != client_key(ADDRESS, NOON + timedelta(1))
        assert (
            db.session.scalar(sa.select(sa.func.count(ClientKeyWindow.starts_at))) == 2
        )


def test_windows_follow_the_setting(app_factory):
    app = app_factory(CLIENT_KEY_HOURS=1)
    with app.app_context():
        assert client_key(ADDRESS, NOON) != client_key(
            ADDRESS, NOON + timedelta(hours=1)
        )


def test_a_forgotten_window_cannot_be_keyed_again(app):
    with app.app_context():
        old = client_key(ADDRESS, NOON)
        assert client_key(ADDRESS, NOON) == old  # cached, and stored
        client_keys.forget_cached_key()
        assert client_key(ADDRESS, NOON) == old  # read back from its salt
        counts = apply_retention(now=NOON + timedelta(days=9))
        assert counts["forgotten_key_windows"] == 1
        # A new salt for the same window: the old key is gone for good.
        assert client_key(ADDRESS, NOON) != old


def test_recent_windows_are_kept(app):
    with app.app_context():
        key = client_key(ADDRESS, NOON)
        assert (
            apply_retention(now=NOON + timedelta(days=7))["forgotten_key_windows"] == 0
        )
        client_keys.forget_cached_key()
        assert client_key(ADDRESS, NOON) == key


def test_keys_are_neither_the_old_hmac_nor_the_salt_alone(app):
    with app.app_context():
        key = client_key(ADDRESS, NOON)
        packed = ipaddress.ip_address(ADDRESS).packed
        for secret in (app.config["SECRET_KEY"], app.config["CLIENT_KEY_SECRET"]):
            assert key != hmac.new(secret.encode(), packed, hashlib.sha256).hexdigest()
        # A stolen database holds the salt, not the secret: the salt keys nothing.
        salt = db.session.scalar(sa.select(ClientKeyWindow.salt))
        for guess in (salt.encode(), bytes.fromhex(salt)):
            assert key != hmac.new(guess, packed, hashlib.sha256).hexdigest()


def test_another_secret_gives_other_keys_from_the_same_salts(app_factory):
    app = app_factory()
    with app.app_context():
        key = client_key(ADDRESS, NOON)
        app.config["CLIENT_KEY_SECRET"] = "another secret"
        client_keys.forget_cached_key()
        assert client_key(ADDRESS, NOON) != key


def test_processes_starting_a_window_together_share_its_salt(app):
    salts = []
    start = threading.Barrier(4)

    def salt_in_a_fresh_process():
        with app.app_context():
            start.wait()
            salts.append(client_keys._salt(NOON))  # below the per-process cache

    threads = [threading.Thread(target=salt_in_a_fresh_process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(salts) == 4 and len(set(salts)) == 1
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(ClientKeyWindow.starts_at))) == 1
        )


def test_signing_stores_the_windows_key(app, client):
    sign(client, email="ada@example.org")
    with app.app_context():
        stored = db.session.scalar(sa.select(Signature.ip_key))
        assert stored == client_key("127.0.0.1")
