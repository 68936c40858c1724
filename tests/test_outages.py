"""Outages: with Redis or the database down the site degrades instead of
crashing, and it comes back by itself once they return.

Each test stops a real server (a private redis-server, a TCP proxy in front of
PostgreSQL, a lock held on the SQLite file), never a mock.
"""

import pytest
import sqlalchemy as sa

from campaign.extensions import db
from campaign.mailing.models import Subscriber
from campaign.mailing.sender import Throttle
from campaign.petition.models import Signature
from campaign.petition.tasks import send_due_notices
from tests.donate_helpers import SECRET, checkout_session, deliver, event, rows
from tests.helpers import SLUG, csrf_token, sign, submit, wait_for
from tests.servers import REDIS_SERVER, RedisServer, SqliteLock, TcpProxy
from tests.test_organiser import add_organiser, log_in

ENGLISH = {"Accept-Language": "en"}
STRIPE = {"STRIPE_SECRET_KEY": "sk_test_outage", "STRIPE_WEBHOOK_SECRET": SECRET}


def signed(client, email: str, **fields) -> bool:
    """Sign as ``email``; whether the site acknowledged it ("check your email")."""
    response = sign(client, email=email, **fields)
    return response.status_code == 303 and response.headers["Location"].endswith(
        f"/petitions/{SLUG}/check-email"
    )


def stored_signatures(app) -> list[str]:
    """The email of every stored signature, sorted (a repeat would show twice)."""
    with app.app_context():
        return sorted(db.session.scalars(sa.select(Signature.email)))


# --- the database --------------------------------------------------------------


class Outage:
    """An outage of the test database, for the length of a ``with`` block."""

    def __enter__(self):
        """Start the outage."""
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        """End it, whatever happened inside (a failed test included)."""
        self.end()


class PostgresOutage(Outage):
    """The app reaches PostgreSQL through a proxy; the outage cuts the proxy."""

    reads_fail = True

    def __init__(self, database_url: str):
        """Put a proxy in front of the test database."""
        url = sa.make_url(database_url)
        self.proxy = TcpProxy((url.host, url.port or 5432))
        proxied = url.set(host="127.0.0.1", port=self.proxy.port)
        self.overrides = {
            "SQLALCHEMY_DATABASE_URI": proxied.render_as_string(hide_password=False)
        }

    def start(self) -> None:
        """Drop every connection and refuse new ones."""
        self.proxy.cut()

    def end(self) -> None:
        """Forward connections again."""
        self.proxy.restore()


class SqliteOutage(Outage):
    """Another process holds the SQLite file's write lock past the busy timeout."""

    reads_fail = False  # WAL: readers never wait on a writer

    def __init__(self, database_url: str):
        """Prepare to lock the test database; make the app give up quickly."""
        self.lock = SqliteLock(sa.make_url(database_url).database)
        self.overrides = {
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 0.2}}
        }

    def start(self) -> None:
        """Take the lock."""
        self.lock.hold()

    def end(self) -> None:
        """Release it."""
        self.lock.release()


@pytest.fixture
def database_outage(database_url):
    """A real outage of this test's database, started and ended by the test."""
    if database_url.startswith("sqlite"):
        yield SqliteOutage(database_url)
    else:
        outage = PostgresOutage(database_url)
        yield outage
        outage.proxy.close()  # after the apps built on it have been torn down


# A value each URL variable accepts (the rest take "1").
SAMPLE = {"slug": SLUG, "ext": "jpg", "kind": "petition"}


def every_get_path(app) -> list[str]:
    """One concrete URL for every GET route (the petition's slug, else ``1``)."""
    adapter = app.url_map.bind("campaign.test")
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {name: SAMPLE.get(name, "1") for name in rule.arguments}
        if rule.endpoint == "static":
            values = {"filename": "css/site.css"}
        paths.append(adapter.build(rule.endpoint, values))
    return paths


def assert_unavailable_page(response) -> None:
    """A 503 with Retry-After, through the error template, in English."""
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page
    assert 'class="site-header"' in page  # the site's own layout, not a bare page
    assert "Please try again in a minute" in page


def test_a_database_outage_answers_503_and_the_site_recovers_alone(
    database_outage, app_factory, inbox
):
    # database_outage comes first, so the app's teardown still reaches the database.
    app = app_factory(**database_outage.overrides, **STRIPE)
    client = app.test_client()
    assert signed(client, "before@example.org")
    # The forms were on the visitors' screens before the outage began.
    token, join_token = csrf_token(client), csrf_token(client, "/join")
    paid = event("checkout.session.completed", checkout_session())

    with database_outage:
        during = sign(
            client, email="during@example.org", csrf_token=token, headers=ENGLISH
        )
        assert_unavailable_page(during)
        # Stripe retries a webhook that gets a 5xx: the gift is not lost.
        webhook = deliver(client, paid)
        assert webhook.status_code == 503
        assert webhook.headers["Retry-After"] == "30"
        assert "try again" in webhook.get_json()["error"]
        joined = client.post(
            "/join",
            data={
                "email": "joiner@example.org",
                "source": "join",
                "csrf_token": join_token,
            },
            headers=ENGLISH,
        )
        assert_unavailable_page(joined)
        count = client.get(f"/petitions/{SLUG}/count.json", headers=ENGLISH)
        if database_outage.reads_fail:
            assert count.status_code == 503
            assert count.headers["Retry-After"] == "30"
            assert "error" in count.get_json()
            assert_unavailable_page(client.get(f"/petitions/{SLUG}", headers=ENGLISH))
        else:
            assert count.status_code == 200  # a locked SQLite file still reads

    # Back without a restart: the same app, the same connection pool.
    assert signed(client, "during@example.org")  # the signer sends it again
    assert signed(client, "after@example.org")
    assert client.get(f"/petitions/{SLUG}/count.json").status_code == 200
    assert deliver(client, paid).status_code == 200  # Stripe's retry
    assert deliver(client, paid).status_code == 200  # and a redelivery
    assert stored_signatures(app) == [
        "after@example.org",
        "before@example.org",
        "during@example.org",
    ]
    assert len(rows(app)) == 1
    assert {message["X-Envelope-To"] for message in inbox.messages} >= {
        "before@example.org",
        "during@example.org",
        "after@example.org",
    }


def test_no_page_answers_500_while_the_database_is_down(database_outage, app_factory):
    app = app_factory(**database_outage.overrides, **STRIPE)  # donate pages fully on
    client = app.test_client()
    with database_outage:
        health = client.get("/healthz")
        if database_outage.reads_fail:
            assert health.status_code == 503
            assert health.get_json()["database"] == "unreachable"
        for path in every_get_path(app):
            if path == "/healthz":
                continue
            with client.get(path, headers=ENGLISH) as response:
                assert response.status_code < 500 or response.status_code == 503, path
                if response.status_code == 503:
                    assert response.headers["Retry-After"] == "30", path
    assert client.get("/healthz").status_code == 200


# --- Redis ---------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path):
    """A private Redis for this test, which it may stop and restart."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed here")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def redis_config(server: RedisServer) -> dict:
    """Everything Redis does in production, on the private server."""
    return {
        "REDIS_URL": server.url,
        "RATELIMIT_STORAGE_URI": server.url,
        "CELERY_BROKER_URL": server.url,
        "CELERY_TASK_ALWAYS_EAGER": False,  # kicks go to the real queue
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": server.url,
    }


def limit_keys(server: RedisServer) -> list[bytes]:
    """The rate-limit counters stored in Redis."""
    return server.client().keys("LIMITS:*")


def test_with_redis_down_signing_joining_and_sign_in_still_work(
    app_factory, redis_server, inbox
):
    app = app_factory(**redis_config(redis_server), JOIN_RATE_LIMIT="3 per minute")
    add_organiser(app)
    client = app.test_client()
    assert signed(client, "before@example.org")
    assert limit_keys(redis_server)  # limits are counted in Redis
    assert redis_server.client().llen("celery") == 1  # the kick reached the queue
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["redis"] == "ok"

    redis_server.stop()
    assert signed(client, "during@example.org")
    assert client.get(f"/petitions/{SLUG}/count.json").status_code == 200  # no cache
    for number in range(3):
        joined = submit(client, "/join", email=f"j{number}@example.org", source="join")
        assert joined.status_code == 303
    # Still limited, now in this process's memory.
    extra = submit(client, "/join", email="j9@example.org", source="join")
    assert extra.status_code == 429
    assert log_in(client).status_code == 302
    assert client.get("/organiser/").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["redis"] == "unreachable"

    redis_server.start()  # empty, as a replaced Redis would be
    acknowledged = ["before@example.org", "during@example.org"]

    def limits_back_in_redis() -> bool:
        email = f"after{len(acknowledged)}@example.org"
        assert signed(client, email)
        acknowledged.append(email)
        return bool(limit_keys(redis_server))

    wait_for(limits_back_in_redis, timeout=40)
    assert redis_server.client().llen("celery") >= 1  # kicks reach the queue again
    assert client.get("/healthz").status_code == 200
    assert stored_signatures(app) == sorted(acknowledged)
    # The email due during the outage waited in its row; a run sends them all.
    with app.app_context():
        send_due_notices()
    delivered = {message["X-Envelope-To"] for message in inbox.messages}
    assert delivered >= set(acknowledged)
    with app.app_context():
        joiners = db.session.scalars(sa.select(Subscriber.email)).all()
    assert sorted(joiners) == [f"j{number}@example.org" for number in range(3)]


def test_the_broadcast_throttle_counts_locally_while_redis_is_down(
    app_factory, redis_server
):
    app = app_factory(**redis_config(redis_server))
    with app.app_context():
        throttle = Throttle(rate=1000)
        throttle.wait()
        assert redis_server.client().keys("LIMITS:*broadcast-send*")
        redis_server.stop()
        for _ in range(5):
            throttle.wait()  # no error: counted in this process
        redis_server.start()
        throttle.shared_again_at = 0  # do not wait out the retry interval
        throttle.wait()
        assert redis_server.client().keys("LIMITS:*broadcast-send*")
