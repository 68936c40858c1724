"""Personal data at rest: encrypted columns, their key ring, and the keyed
hashes that find a row without reading it.

Names, emails and comments are stored as AES-256-GCM ciphertext
(``cryptography``'s ``AESGCM``) under keys from ``ENCRYPTION_KEYS``, which is
separate from ``SECRET_KEY``: the first key encrypts, every key listed
decrypts, so a key is rotated by putting a new one first, running ``flask
campaign rotate-keys``, then dropping the old one. A value is
``version (1) | key id (4) | nonce (12) | ciphertext and tag``; the column's
name is the associated data, so a value copied into another column does not
decrypt.

Why not ``MultiFernet``, the obvious choice: measured on this project's
machines, one Fernet decryption costs about 40 µs of CPU against about 2 µs
for ``AESGCM`` (Fernet rebuilds its cipher, checks a separate HMAC and
base64-decodes on every call), and an export of 1,000,000 signatures
decrypts two or three values a row. The key ring here is the few lines
Fernet's would be, around the same library's authenticated cipher.

Equality lookups (one signature per address and petition, the suppression
list, data requests, the moderation filter by domain) use ``lookup_hash``:
an HMAC-SHA256 under ``HASH_KEY``, its own secret, with the purpose in the
message so the same address hashes differently for different uses.
"""

import base64
import binascii
import hashlib
import hmac
import os

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from campaign.text import canonical_email

VERSION = b"\x01"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES
EXTENSION = "campaign.key_ring"


class UnreadableValue(Exception):
    """A stored value no listed key opens (a missing key, or tampering)."""


def parse_key(text: str) -> bytes:
    """A key from its URL-safe base64 text: exactly 32 bytes, or ValueError."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as error:
        raise ValueError("an encryption key must be URL-safe base64") from error
    if len(key) != 32:
        raise ValueError("an encryption key must be 32 bytes (44 base64 characters)")
    return key


def new_key() -> str:
    """A fresh key as ENCRYPTION_KEYS takes it."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def key_id(key: bytes) -> bytes:
    """The short name of a key written before each value it encrypted."""
    return hmac.new(key, b"campaign key id", hashlib.sha256).digest()[:KEY_ID_BYTES]


class KeyRing:
    """The encryption keys: the first encrypts, any of them decrypts."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("ENCRYPTION_KEYS must list at least one key")
        self.primary_id = key_id(keys[0])
        self.ciphers = {key_id(key): AESGCM(key) for key in keys}
        self.primary = self.ciphers[self.primary_id]

    @classmethod
    def from_text(cls, text: str) -> "KeyRing":
        """The ring from ENCRYPTION_KEYS' comma-separated keys."""
        return cls([parse_key(word) for word in text.split(",") if word.strip()])

    def encrypt(self, plaintext: str, context: bytes) -> bytes:
        """``plaintext`` sealed under the primary key, bound to ``context``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.primary.encrypt(nonce, plaintext.encode(), context)
        return VERSION + self.primary_id + nonce + sealed

    def decrypt(self, token: bytes, context: bytes) -> str:
        """The text sealed in ``token``, or UnreadableValue."""
        cipher = self.ciphers.get(bytes(token[1 : HEADER_BYTES - NONCE_BYTES]))
        if cipher is None or token[:1] != VERSION:
            raise UnreadableValue("no listed key encrypted this value")
        nonce = bytes(token[HEADER_BYTES - NONCE_BYTES : HEADER_BYTES])
        try:
            return cipher.decrypt(nonce, bytes(token[HEADER_BYTES:]), context).decode()
        except InvalidTag as error:
            raise UnreadableValue("the value or its column was changed") from error

    def decrypt_all(self, tokens, context: bytes) -> list[bytes | None]:
        """Many tokens' plaintexts as UTF-8 bytes (None stays None), for exports.

        The fast path: a token under the primary key goes straight to its
        cipher, with no per-value lookup, check or ``str``; any other falls
        back to ``decrypt`` (older keys, or UnreadableValue).
        """
        head = VERSION + self.primary_id
        opened = self.primary.decrypt
        start, end = HEADER_BYTES - NONCE_BYTES, HEADER_BYTES
        try:
            return [
                None
                if token is None
                else opened(token[start:end], token[end:], context)
                if token[:start] == head
                else self.decrypt(token, context).encode()
                for token in tokens
            ]
        except InvalidTag as error:
            raise UnreadableValue("the value or its column was changed") from error

    def is_current(self, token: bytes) -> bool:
        """Whether ``token`` is under the primary key (else rotate it)."""
        return bytes(token[1 : 1 + KEY_ID_BYTES]) == self.primary_id


def key_ring() -> KeyRing:
    """The running app's key ring, built once from its configuration."""
    ring = current_app.extensions.get(EXTENSION)
    if ring is None:
        ring = KeyRing.from_text(current_app.config["ENCRYPTION_KEYS"])
        current_app.extensions[EXTENSION] = ring
    return ring


class Encrypted(sa.TypeDecorator):
    """A text column stored encrypted; reads and writes see plain ``str``.

    ``purpose`` (say ``"signature.email"``) is the associated data. Only
    equality with NULL works in SQL: find rows by a ``lookup_hash`` column.
    """

    impl = sa.LargeBinary
    cache_ok = True

    def __init__(self, purpose: str):
        super().__init__()
        self.purpose = purpose
        self.context = purpose.encode()

    def process_bind_param(self, value, dialect):
        """Encrypt on the way in (None stays NULL)."""
        return None if value is None else key_ring().encrypt(value, self.context)

    def process_result_value(self, value, dialect):
        """Decrypt on the way out."""
        return None if value is None else key_ring().decrypt(value, self.context)


def lookup_hash(purpose: str, value: str) -> str:
    """A keyed hash (64 hex characters) that finds ``value`` for ``purpose``."""
    key = current_app.config["HASH_KEY"].encode()
    message = purpose.encode() + b"\0" + value.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def email_hash(email: str) -> str:
    """How an address is found: the keyed hash of its canonical form."""
    return lookup_hash("email", canonical_email(email))


def domain_hash(email_or_domain: str) -> str:
    """How an address's domain is found (moderation, trending domains)."""
    domain = email_or_domain.rsplit("@", 1)[-1].strip().lower()
    return lookup_hash("domain", domain)
