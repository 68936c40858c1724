"""Helpers for tests: constants, the SMTP inbox, and a supporter's actions."""

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import flask
import pytest
import sqlalchemy as sa

from campaign.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("REDIS_URL")
SLUG = "no-recognition-for-gender-apartheid"
needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="TEST_DATABASE_URL is not set (no PostgreSQL here)"
)
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="REDIS_URL is not set (no Redis here)"
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """What the SMTP server has received, oldest first."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        """Record one delivered message."""
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages sent to one address."""
        return [m for m in self.messages if address in m["X-Envelope-To"]]

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The plain-text part of a message."""
        return message.get_body(("plain",)).get_content()

    def link(self, message: EmailMessage, pattern: str = r"/confirm/") -> str:
        """The first link in a message's text whose path matches ``pattern``."""
        for url in re.findall(r"https?://\S+", self.text(message)):
            if re.search(pattern, url):
                return url
        raise AssertionError(f"no link matching {pattern!r} in message")


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# What the site answers a POST without a valid CSRF token (campaign/errors.py).
CSRF_REFUSAL = "This form expired or was sent from another site."


def token_in(html: str) -> str:
    """The CSRF token in a page's form, as a browser would send it.

    A page without one gives "": so, with CSRF switched off, the tests that
    check it are the ones that fail, not every test that submits a form.
    """
    found = CSRF.search(html)
    return found.group(1) if found else ""


PREVIEWED = re.compile(r'name="previewed" type="hidden" value="([^"]*)"')


def previewed(response) -> str:
    """What a bulk moderation preview says it showed: sent back to confirm it."""
    found = PREVIEWED.search(response.get_data(as_text=True))
    return found.group(1) if found else ""


def csrf_token(client, path: str = f"/petitions/{SLUG}") -> str:
    """The CSRF token from the form on the page at ``path``."""
    return token_in(client.get(path).get_data(as_text=True))


def refused_as_forged(response) -> bool:
    """Whether the site refused a POST for its CSRF token (not for its fields)."""
    return response.status_code == 400 and CSRF_REFUSAL in response.get_data(
        as_text=True
    )


# What the site answers a public form posted from another site (campaign/origin.py).
CROSS_SITE_REFUSAL = "This form was sent from another website"

# Headers a browser sends with a public form posted from another site's page:
# each alone must be refused (Sec-Fetch-Site wins where both are sent).
CROSS_SITE_HEADERS = [
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="fetch-cross-site"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="fetch-same-site"),
    pytest.param({"Origin": "https://attacker.example"}, id="origin-elsewhere"),
    pytest.param({"Origin": "null"}, id="origin-null"),
    pytest.param(
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://campaign.test"},
        id="fetch-cross-site-origin-ours",
    ),
]
# ... and with one posted from our own page, or by a client sending neither.
SAME_SITE_HEADERS = [
    pytest.param({"Sec-Fetch-Site": "same-origin"}, id="fetch-same-origin"),
    pytest.param({"Sec-Fetch-Site": "none"}, id="fetch-none"),
    pytest.param({"Origin": "http://campaign.test"}, id="origin-base-url"),
    pytest.param({"Origin": "http://localhost"}, id="origin-request-host"),
    pytest.param({}, id="neither"),
]


def refused_as_cross_site(response) -> bool:
    """Whether the site refused a public form for coming from another site."""
    return response.status_code == 403 and CROSS_SITE_REFUSAL in response.get_data(
        as_text=True
    )


def snapshot(app) -> dict[str, list[str]]:
    """Every row of every table: equal snapshots mean a request changed nothing."""
    with app.app_context():
        return {
            table.name: sorted(
                repr(tuple(row)) for row in db.session.execute(table.select())
            )
            for table in db.metadata.sorted_tables
        }


def sign(client, slug: str = SLUG, headers: dict | None = None, **fields):
    """Fill in and send the sign form like a supporter.

    The form has no CSRF token: campaign/origin.py checks where it came from.
    """
    data = {"name": "Ada Lovelace", "email": "ada@example.org", "country": "GB"}
    data.update(fields)
    return client.post(f"/petitions/{slug}/sign", data=data, headers=headers)


def count(client, slug: str = SLUG) -> int:
    """The public confirmed count."""
    return client.get(f"/petitions/{slug}/count.json").get_json()["count"]


def reset_database() -> None:
    """Drop every table, whatever created it (models or migrations)."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def submit(client, path: str, page: str | None = None, headers=None, **fields):
    """Post a form as a browser would, with the CSRF token from ``page`` if any."""
    fields["csrf_token"] = csrf_token(client, page or path)
    return client.post(path, data=fields, headers=headers)


def wait_for(predicate, timeout: float = 15.0):
    """Poll until ``predicate()`` is truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def start_worker(app, database_url: str, smtp_port: int, folder, **env):
    """A real Celery worker process (with beat) for ``app``'s broker and database."""
    environment = {
        **os.environ,
        "CAMPAIGN_ENV": "development",
        # The same secrets as the app, or the worker reads nothing it sealed.
        **{
            name: app.config[name]
            for name in (
                "SECRET_KEY",
                "ENCRYPTION_KEYS",
                "HASH_KEY",
                "CLIENT_KEY_SECRET",
            )
        },
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": app.config["CELERY"]["broker_url"],
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "BASE_URL": app.config["BASE_URL"],
        "NOTICE_POLL_SECONDS": "1",
        **env,
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        "--app=wsgi:celery",
        "worker",
        "--pool=solo",
        "--loglevel=warning",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--beat",
        f"--schedule={Path(folder) / 'beat-schedule'}",
    ]
    # Its own process group, so a test can kill it (and its beat) outright.
    with (Path(folder) / "worker.log").open("a") as log:
        return subprocess.Popen(
            command, env=environment, stdout=log, stderr=log, start_new_session=True
        )


def petition_renders(monkeypatch) -> list[str]:
    """The templates the petition pages render from now on, one entry per
    render (a page answered from a cache adds none)."""
    renders: list[str] = []

    def counted(*args, **context):
        renders.append(args[0])
        return flask.render_template(*args, **context)

    monkeypatch.setattr("campaign.petition.views.render_template", counted)
    return renders
