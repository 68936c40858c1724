"""Fixtures: a fresh app and database per test, on SQLite and PostgreSQL,
and a real SMTP server that records what it receives."""

import pytest
from aiosmtpd.controller import Controller

from campaign import create_app
from campaign.cli import seed_content
from campaign.extensions import db
from tests.helpers import PG_URL, Inbox, free_port, needs_postgres, reset_database


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def inbox(smtp_server) -> Inbox:
    """The SMTP server's inbox, emptied for this test."""
    smtp_server.handler.messages.clear()
    return smtp_server.handler


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=needs_postgres),
    ]
)
def database_url(request, tmp_path) -> str:
    """Each test runs on SQLite and, when configured, on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return PG_URL


def make_app(database_url, smtp_server, tmp_path, **overrides):
    """An app wired to the test database and the test SMTP server."""
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,
        "SIGN_RATE_LIMIT": "1000 per minute",
        # Fresh limits per app; test_petition covers the Redis storage.
        "RATELIMIT_STORAGE_URI": "memory://",
        "BASE_URL": "http://campaign.test",
    }
    config.update(overrides)
    config.setdefault("MAIL_DIR", str(tmp_path / "mail"))
    return create_app(config)


@pytest.fixture
def app_factory(database_url, smtp_server, tmp_path):
    """Build apps with extra config; each gets a fresh, seeded database."""
    apps = []

    def build(**overrides):
        app = make_app(database_url, smtp_server, tmp_path, **overrides)
        with app.app_context():
            reset_database()
            db.create_all()
            seed_content()
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            reset_database()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    """The app with the campaign content loaded."""
    return app_factory()


@pytest.fixture
def client(app):
    """A browser-like test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for ``flask campaign`` commands."""
    return app.test_cli_runner()
