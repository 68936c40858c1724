"""Broadcast messages: rendered once, personalised per recipient cheaply.

Rendering the campaign's email layout and building a MIME message costs a few
milliseconds, more than an SMTP round trip to a local relay. A broadcast is
therefore rendered once with a placeholder where each recipient's unsubscribe
token goes; each copy is then the shared headers plus the recipient's own
(To, Message-ID, List-Unsubscribe) and the two bodies with the token filled
in, quoted-printable encoded by the C codec. A broadcast written in several
languages is rendered once per language (``BroadcastMessages``).
"""

import binascii
import uuid
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale

from campaign.config import site_text
from campaign.localised import ORIGINAL
from campaign.mailing.links import list_headers, preferences_url, unsubscribe_url
from campaign.privacy.self_service import subscriber_data_url
from campaign.text import render_markdown

PLACEHOLDER = "0TOKEN0"  # survives Markdown, Jinja escaping and URL building
# A petition update's second per-copy token: the signer's withdraw link.
WITHDRAW_PLACEHOLDER = "0WITHDRAW0"


def render_bodies(
    subject: str, body_markdown: str, token: str, locale: str = ORIGINAL
) -> tuple[str, str]:
    """The plain-text and HTML bodies of a broadcast, for one token, in the
    language the text is written in (the footer's words, ``lang`` and ``dir``)."""
    with force_locale(locale):
        return _render_bodies(subject, body_markdown, token)


def _render_bodies(subject: str, body_markdown: str, token: str) -> tuple[str, str]:
    """The two bodies, in the current locale."""
    context = {
        "subject": subject,
        "body_text": body_markdown,
        "body_html": render_markdown(body_markdown),
        "unsubscribe_url": unsubscribe_url(token),
        "preferences_url": preferences_url(token),
        "data_url": subscriber_data_url(token),
        "site_name": site_text("SITE_NAME"),
    }
    return (
        render_template("email/mailing/broadcast.txt", **context),
        render_template("email/mailing/broadcast.html", **context),
    )


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends, as SMTP wants."""
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class EncodedBody:
    """A body encoded once, except the lines that hold a recipient's token.

    Quoted-printable works line by line, so the lines without the placeholder
    are the same bytes in every copy; only the few with it are encoded again.
    """

    def __init__(self, text: str):
        """Encode the constant lines; keep the others to fill in per copy."""
        self.segments: list[bytes | str] = []
        for line in text.split("\n"):
            if PLACEHOLDER in line or WITHDRAW_PLACEHOLDER in line:
                self.segments.append(line)
            else:
                self.segments.append(_qp(line))

    def for_token(self, token: str, withdraw: str = "") -> bytes:
        """The encoded body with this token (and withdraw token) filled in."""
        return b"\r\n".join(
            _qp(
                segment.replace(PLACEHOLDER, token).replace(
                    WITHDRAW_PLACEHOLDER, withdraw
                )
            )
            if isinstance(segment, str)
            else segment
            for segment in self.segments
        )


class BulkMessage:
    """One broadcast, ready to be turned into each recipient's bytes."""

    def __init__(self, subject: str, body_markdown: str, locale: str = ORIGINAL):
        """Render the bodies and the shared headers once."""
        config = current_app.config
        name, self.sender = parseaddr(config["MAIL_DEFAULT_SENDER"])
        self.text, self.html = self.bodies(subject, body_markdown, locale)
        self.encoded_text = EncodedBody(self.text)
        self.encoded_html = EncodedBody(self.html)
        self.boundary = f"=_{uuid.uuid4().hex}"
        self.domain = self.sender.rpartition("@")[2] or "localhost"
        self.head = (
            f"From: {formataddr((name, self.sender), 'utf-8')}\r\n"
            f"Subject: {Header(subject, 'utf-8').encode()}\r\n"
            f"Date: {formatdate(localtime=False)}\r\n"
            "MIME-Version: 1.0\r\n"
            "Auto-Submitted: auto-generated\r\n"
            f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n'
        ).encode()
        # Built once with the placeholder; each copy fills in its token. The
        # unsubscribe page opens in the language the message is written in.
        with force_locale(locale):
            headers = self.headers()
        self.list_headers = "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )

    def bodies(self, subject: str, body_markdown: str, locale: str):
        """The two bodies, with the placeholder for the token (list mail's)."""
        return render_bodies(subject, body_markdown, PLACEHOLDER, locale)

    def headers(self) -> dict[str, str]:
        """The unsubscribe headers, with the placeholder (list mail's)."""
        return list_headers(PLACEHOLDER)

    def for_recipient(self, email: str, token: str, withdraw: str = "") -> bytes:
        """This recipient's copy, as the bytes to hand to SMTP (``withdraw``:
        a petition update's withdraw token)."""
        own = (
            f"To: {email}\r\n"
            f"Message-ID: {make_msgid(domain=self.domain)}\r\n"
            + self.list_headers.replace(PLACEHOLDER, token)
        ).encode()
        boundary = self.boundary.encode()
        part = (
            b"--" + boundary + b"\r\nContent-Type: text/%s; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        )
        return b"".join(
            (
                self.head,
                own,
                b"\r\n",
                part % b"plain",
                self.encoded_text.for_token(token, withdraw),
                b"\r\n",
                part % b"html",
                self.encoded_html.for_token(token, withdraw),
                b"\r\n--" + boundary + b"--\r\n",
            )
        )


class BroadcastMessages:
    """A broadcast's message in each language it has a version in, rendered
    once each before sending; a reader of another language gets English."""

    def __init__(self, broadcast, subject_format: str = "%s", kind=BulkMessage):
        """Render the English original and every other-language version
        (``kind``: the message class, BulkMessage or one with other links)."""
        self.messages = {
            ORIGINAL: kind(subject_format % broadcast.subject, broadcast.body_markdown)
        }
        for version in broadcast.versions:
            self.messages[version.locale] = kind(
                subject_format % version.subject, version.body_markdown, version.locale
            )
        self.sender = self.messages[ORIGINAL].sender

    def for_locale(self, locale: str) -> BulkMessage:
        """The message a reader of ``locale`` gets."""
        return self.messages.get(locale) or self.messages[ORIGINAL]
