"""The one path for outgoing mail: render .txt and .html templates, deliver.

Callers never send inside a request: a feature's Celery task renders with
``build_message`` and sends through ``sending()`` in the worker, after the
database commit that made the email due.
Delivery goes to SMTP (Flask-Mail) or, in the embedded default, to ``.eml``
files under ``instance/mail/`` with the message's links logged.
"""

import logging
import re
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, render_template
from flask_mail import Message

from campaign.config import site_text
from campaign.extensions import mail

log = logging.getLogger(__name__)
LINK = re.compile(r"""https?://[^\s<>"']+""")  # up to a quote or tag too


def build_message(
    to: str,
    subject: str,
    template: str,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    **context,
) -> Message:
    """Render ``email/<template>.txt`` and ``.html`` into one message, with
    any ``attachments`` as (file name, content type, data)."""
    context.setdefault("site_name", site_text("SITE_NAME"))
    message = Message(
        subject=subject,
        recipients=[to],
        body=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
    )
    for filename, content_type, data in attachments:
        message.attach(filename, content_type, data)
    return message


def deliver_to_file(message: Message, data: bytes | None = None) -> Path:
    """Write the message (or its ready-made ``data``) as an .eml file; log links."""
    folder = Path(current_app.config["MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
    data = data if data is not None else message.as_bytes()
    path.write_bytes(data)
    text = message.body or data.decode("utf-8", "replace").replace("=\r\n", "")
    links = " ".join(dict.fromkeys(LINK.findall(text)))
    log.warning("Mail to %s written to %s; links: %s", message.recipients, path, links)
    return path


@contextmanager
def smtp_connection():
    """One SMTP connection for many messages; yields its send function."""
    with mail.connect() as connection:
        yield connection.send


@contextmanager
def file_writer():
    """The file backend's equivalent of a connection."""
    yield deliver_to_file


@contextmanager
def smtp_raw_connection():
    """One SMTP connection for ready-made bytes; yields ``send(sender, to, data)``."""
    with mail.connect() as connection:

        def send(sender: str, to: str, data: bytes) -> None:
            if connection.host is not None:  # None when MAIL_SUPPRESS_SEND
                connection.host.sendmail(sender, [to], data)

        yield send


@contextmanager
def raw_file_writer():
    """The file backend for ready-made bytes."""

    def send(sender: str, to: str, data: bytes) -> None:
        deliver_to_file(Message(recipients=[to]), data)

    yield send


BACKENDS = {"file": file_writer, "smtp": smtp_connection}
RAW_BACKENDS = {"file": raw_file_writer, "smtp": smtp_raw_connection}


def sending():
    """A context yielding ``send(message)`` for the configured backend."""
    return BACKENDS[current_app.config["MAIL_BACKEND"]]()


def raw_sending():
    """A context yielding ``send(sender, to, data)`` for bulk mail built as bytes."""
    return RAW_BACKENDS[current_app.config["MAIL_BACKEND"]]()
