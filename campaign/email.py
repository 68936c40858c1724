"""The one path for outgoing mail: render .txt and .html templates, deliver.

Callers never send inside a request: a feature's Celery task calls
``send_email`` in the worker, after the database commit that queued it.
Delivery goes to SMTP (Flask-Mail) or, in the embedded default, to ``.eml``
files under ``instance/mail/`` with the message's links logged.
"""

import logging
import re
import time
import uuid
from pathlib import Path

from flask import current_app, render_template
from flask_mail import Message

from campaign.extensions import mail

log = logging.getLogger(__name__)
LINK = re.compile(r"https?://\S+")


def build_message(to: str, subject: str, template: str, **context) -> Message:
    """Render ``email/<template>.txt`` and ``.html`` into one message."""
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    return Message(
        subject=subject,
        recipients=[to],
        body=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
    )


def deliver_to_file(message: Message) -> Path:
    """Write the message as an .eml file and log its links."""
    folder = Path(current_app.config["MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes())
    links = " ".join(LINK.findall(message.body or ""))
    log.warning("Mail to %s written to %s; links: %s", message.recipients, path, links)
    return path


def deliver_by_smtp(message: Message) -> None:
    """Send the message through the configured SMTP server."""
    mail.send(message)


BACKENDS = {"file": deliver_to_file, "smtp": deliver_by_smtp}


def send_email(to: str, subject: str, template: str, **context) -> None:
    """Render and deliver one email through the configured backend."""
    message = build_message(to, subject, template, **context)
    BACKENDS[current_app.config["MAIL_BACKEND"]](message)
