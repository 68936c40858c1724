"""Configuration: defaults in classes, overridden by environment variables.

Every variable read here is listed in the README. The embedded default
(``DevelopmentConfig``) needs none of them: SQLite, a SQLite Celery broker and
mail written to ``instance/mail/``.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import get_locale, gettext

from campaign.encryption import KeyRing, new_key


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def N_(message: str) -> str:
    """Mark a default as a message to translate (pybabel finds ``N_``)."""
    return message


def instance_secret(instance_path: str, name: str, make) -> str:
    """Return a random secret kept in the instance folder, made on first use.

    The embedded default must not ship a fixed key, yet sessions, emailed
    links and encrypted data should survive a restart.
    """
    path = Path(instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


# Secrets production must be given; the embedded default keeps its own in the
# instance folder. Each is separate so that one leaked key opens one thing.
INSTANCE_SECRETS = {
    "SECRET_KEY": ("secret_key", lambda: secrets.token_urlsafe(48)),
    "ENCRYPTION_KEYS": ("encryption_keys", new_key),
    "HASH_KEY": ("hash_key", lambda: secrets.token_urlsafe(48)),
    "CLIENT_KEY_SECRET": ("client_key_secret", lambda: secrets.token_urlsafe(48)),
}


class Config:
    """Defaults shared by every environment."""

    # Words every page shows (see ``site_text``): the defaults are messages,
    # translated in each catalogue; SITE_NAME_FA_AF and the like give one
    # language the operator's own words.
    # TRANSLATORS: the site's name, in every page's header and title and emails.
    SITE_NAME = N_("Stand with Afghan Women")
    SITE_NAME_FA_AF: str | None = None
    SITE_NAME_PS: str | None = None
    # TRANSLATORS: the donate banner's link, on every page.
    DONATE_BANNER = N_("Support the ERA")
    DONATE_BANNER_FA_AF: str | None = None
    DONATE_BANNER_PS: str | None = None
    BASE_URL = "http://127.0.0.1:5000"
    SECRET_KEY: str | None = None
    # Personal data at rest (campaign/encryption.py): the keys that encrypt
    # names, emails and comments (comma-separated, the first encrypts), the
    # key of the hashes that find them, and the secret the daily client-address
    # keys are derived from.
    ENCRYPTION_KEYS: str | None = None
    HASH_KEY: str | None = None
    CLIENT_KEY_SECRET: str | None = None
    SQLALCHEMY_DATABASE_URI = "sqlite:///campaign.db"
    # Recycle rather than ping: a ping is a round trip on every request.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_recycle": 1800}
    CACHE_TYPE = "SimpleCache"
    # How stale a petition's public count and open/closed state may be.
    COUNT_CACHE_SECONDS = 3
    # Public pages for visitors without a session (campaign/http_cache.py):
    # seconds a browser, proxy or CDN may serve its copy, then seconds more it
    # may serve the stale copy while it fetches a fresh one.
    PUBLIC_MAX_AGE = 10
    PUBLIC_STALE_WHILE_REVALIDATE = 60
    # Flask-Compress runs only where http_cache.py and static_files.py call it.
    COMPRESS_REGISTER = False
    REDIS_URL: str | None = None
    CELERY_BROKER_URL: str | None = None

    MAIL_BACKEND = "file"  # "file" writes .eml files; "smtp" sends them
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "campaign@localhost"
    MAIL_SUPPRESS_SEND = False
    # Where supporters report a problem with the site (the accessibility
    # statement names it); empty: MAIL_DEFAULT_SENDER's address.
    CONTACT_EMAIL = ""

    # English at /, the others under /<language>/ (campaign/i18n/prefixes.py).
    LANGUAGES = ["en", "fa_AF", "ps"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    # Bodies larger than this are refused with 413 before any parsing.
    MAX_CONTENT_LENGTH = 16 * 1024
    # The same for pages under /organiser/: whole petition texts, stories and
    # broadcasts, in scripts that take two bytes a letter and six escaped.
    ORGANISER_MAX_CONTENT_LENGTH = 512 * 1024
    # Story images (campaign/images/): the largest file an editor may upload
    # (its page's body limit is this plus room for the form), and the most
    # pixels it may decode to (a decompression bomb is refused; Pillow's own
    # limit, about 89 million, stands behind it).
    IMAGE_MAX_BYTES = 10_000_000
    IMAGE_MAX_PIXELS = 50_000_000
    WTF_CSRF_TIME_LIMIT = 6 * 3600
    PROXY_FIX_X_FOR = 0
    SIGN_RATE_LIMIT = "10 per minute;100 per hour"
    # Past SIGN_RATE_LIMIT (or JOIN_RATE_LIMIT) an address is asked for a
    # proof of work (ALTCHA, campaign/abuse.py); past the hard limit even a
    # solved request is not trusted: a signature is kept as fraudulent
    # (KEEP_OVER_LIMIT_AS_FRAUDULENT, else refused), a sign-up refused.
    SIGN_HARD_RATE_LIMIT = "30 per minute;300 per hour"
    JOIN_HARD_RATE_LIMIT = "30 per minute;300 per hour"
    KEEP_OVER_LIMIT_AS_FRAUDULENT = True
    # The challenge's secret (default: derived from CLIENT_KEY_SECRET) and its
    # work: the browser tries on average half this many SHA-256 hashes.
    ALTCHA_HMAC_KEY: str | None = None
    ALTCHA_MAX_NUMBER = 100_000
    # Failed sign-in attempts (passwords and two-factor codes), counted per
    # client address and per account; a browser that signed into an account
    # before is spared that account's limit (campaign/organiser/devices.py).
    LOGIN_RATE_LIMIT = "5 per minute;30 per hour"
    # An organiser session ends after this long without a request, and this
    # long after sign-in whatever happens.
    ORGANISER_SESSION_IDLE_MINUTES = 60
    ORGANISER_SESSION_MAX_HOURS = 12
    # X-RateLimit-* headers would cost a storage read on every limited request.
    RATELIMIT_HEADERS_ENABLED = False
    # Redis down: count limits in this process's memory instead of failing the
    # request, and go back to Redis once it answers (checked with backoff).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Seconds a visitor is told to wait (Retry-After) while the database is down.
    UNAVAILABLE_RETRY_AFTER = 30
    CONFIRM_TOKEN_MAX_AGE = 14 * 24 * 3600
    # Seconds a withdraw, data-copy or erase link works (7 days).
    SELF_SERVICE_LINK_MAX_AGE = 7 * 24 * 3600
    # Confirmation emails one data link may ask for (whoever holds a
    # forwarded link cannot fill its owner's inbox).
    SELF_SERVICE_RATE_LIMIT = "3 per hour;10 per day"
    # Resend a confirmation or an "already signed" notice at most this often.
    NOTICE_INTERVAL = 600
    # The signer-email outbox (campaign/outbox.py): how often the
    # beat runs the sender, how often one web process may ask for a run,
    # emails per batch (one SMTP connection each), when a crashed run's claim
    # is retaken.
    NOTICE_POLL_SECONDS = 5
    NOTICE_KICK_INTERVAL = 1.0
    NOTICE_BATCH_SIZE = 200
    NOTICE_CLAIM_TIMEOUT = 300
    COUNTER_SHARDS = 16
    # Mailing list (campaign/mailing/): sign-ups per client, the address
    # List-Unsubscribe's mailto: names (default: unsubscribe@ the sender's
    # domain), and the broadcast engine: copies per batch (one SMTP
    # connection each), messages per second across all workers (0: no
    # limit), when a dead run's claim is retaken, attempts before a copy
    # SMTP keeps deferring fails, retry backoff after an SMTP outage, and how
    # often the beat starts scheduled broadcasts and resumes unfinished ones.
    JOIN_RATE_LIMIT = "10 per minute;100 per hour"
    MAIL_UNSUBSCRIBE_ADDRESS: str | None = None
    BROADCAST_BATCH_SIZE = 300
    # Copies a run may hand to SMTP beyond what the ledger has recorded as
    # accepted: at most this many end unknown (never resent) if a worker dies;
    # 1 is strictest (and slowest: a database round trip per copy).
    BROADCAST_WINDOW = 10
    BROADCAST_RATE = 0
    BROADCAST_CLAIM_TIMEOUT = 300
    BROADCAST_MAX_ATTEMPTS = 5
    BROADCAST_RETRY_BASE = 30
    BROADCAST_RETRY_MAX = 3600
    BROADCAST_POLL_SECONDS = 30
    HSTS = False
    # Donations (campaign/donate/). Without a secret key /donate says online
    # giving is not set up. STRIPE_API_BASE points the library elsewhere (a
    # stand-in in tests); the checkout origin is allowed as a form target.
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None
    STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
    STRIPE_MAX_NETWORK_RETRIES = 2
    STRIPE_TIMEOUT = 20
    # Seconds a webhook's signature time may be from ours, past or future.
    STRIPE_WEBHOOK_TOLERANCE = 300
    # Amounts in whole currency units (dollars, not cents); stored in cents.
    DONATION_CURRENCY = "usd"
    DONATION_MIN = 1
    DONATION_MAX = 10000
    DONATION_PRESETS = "10,25,50,100"
    # One line on what the money does; empty: a general sentence.
    DONATION_PURPOSE = ""
    # Tags every Checkout Session (metadata "campaign"); empty: BASE_URL's host.
    DONATION_CAMPAIGN = ""
    # How long the "change or cancel your monthly gift" link in receipts works.
    DONATION_MANAGE_LINK_MAX_AGE = 90 * 24 * 3600
    # The petition PDF (campaign/petition/delivery.py): up to this many
    # confirmed signers it is made in the request (1,000 take about 6 s of CPU),
    # above it by a worker; stored PDFs are deleted after PDF_KEEP_SECONDS,
    # checked every PDF_SWEEP_SECONDS by the beat.
    PDF_INLINE_MAX_SIGNERS = 1000
    PDF_KEEP_SECONDS = 24 * 3600
    PDF_SWEEP_SECONDS = 300
    # A worker lays the names out this many at a time, as separate
    # documents joined into one PDF, so its memory stays bounded.
    PDF_CHUNK_NAMES = 2000
    # Retention (campaign/retention/), each period 0 for "never": pending
    # signatures and unconfirmed subscribers are deleted after this many days;
    # the signatures of a petition closed this many months are anonymised
    # (counts and tallies kept); donors' names and emails are blanked after
    # this many years (amounts, dates and Stripe ids kept for the accounts).
    # The beat applies them every RETENTION_INTERVAL seconds.
    RETENTION_PENDING_DAYS = 30
    RETENTION_CLOSED_MONTHS = 6
    RETENTION_DONATION_YEARS = 7
    RETENTION_INTERVAL = 24 * 3600
    # Client-address keys (campaign/privacy/client_keys.py): one key per this
    # many hours, forgotten (with the keys stored on signatures) after
    # CLIENT_KEY_KEEP_DAYS (0: never).
    CLIENT_KEY_HOURS = 24
    CLIENT_KEY_KEEP_DAYS = 7
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"


class DevelopmentConfig(Config):
    """The embedded default behind ``make run``."""


class TestingConfig(Config):
    """Used by the test suite; fixtures override the database and mail."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
    ENCRYPTION_KEYS = "dGVzdHMtb25seS1lbmNyeXB0aW9uLWtleS0zMi1ieXQ="
    HASH_KEY = "test-hash-key"
    CLIENT_KEY_SECRET = "test-client-key-secret"  # noqa: S105 - tests only
    WTF_CSRF_ENABLED = True
    CELERY_TASK_ALWAYS_EAGER = True
    CACHE_TYPE = "NullCache"  # tests see every change at once
    NOTICE_KICK_INTERVAL = 0  # every signature asks for a sender run


class ProductionConfig(Config):
    """Behind gunicorn with PostgreSQL, Redis and a real SMTP server."""

    MAIL_BACKEND = "smtp"
    HSTS = True
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

# Environment variables read on top of the class defaults, with their types.
ENV_STRINGS = [
    "SITE_NAME",
    "SITE_NAME_FA_AF",
    "SITE_NAME_PS",
    "BASE_URL",
    "DONATE_BANNER",
    "DONATE_BANNER_FA_AF",
    "DONATE_BANNER_PS",
    "SECRET_KEY",
    "ENCRYPTION_KEYS",
    "HASH_KEY",
    "CLIENT_KEY_SECRET",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "MAIL_BACKEND",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "CONTACT_EMAIL",
    "SIGN_RATE_LIMIT",
    "LOGIN_RATE_LIMIT",
    "CACHE_TYPE",
    "CACHE_REDIS_URL",
    "JOIN_RATE_LIMIT",
    "SIGN_HARD_RATE_LIMIT",
    "JOIN_HARD_RATE_LIMIT",
    "SELF_SERVICE_RATE_LIMIT",
    "ALTCHA_HMAC_KEY",
    "MAIL_UNSUBSCRIBE_ADDRESS",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_CHECKOUT_ORIGIN",
    "DONATION_CURRENCY",
    "DONATION_PRESETS",
    "DONATION_PURPOSE",
    "DONATION_CAMPAIGN",
]
ENV_INTS = [
    "PDF_INLINE_MAX_SIGNERS",
    "PDF_KEEP_SECONDS",
    "PDF_SWEEP_SECONDS",
    "PDF_CHUNK_NAMES",
    "MAIL_PORT",
    "PROXY_FIX_X_FOR",
    "MAX_CONTENT_LENGTH",
    "ORGANISER_MAX_CONTENT_LENGTH",
    "IMAGE_MAX_BYTES",
    "IMAGE_MAX_PIXELS",
    "CONFIRM_TOKEN_MAX_AGE",
    "SELF_SERVICE_LINK_MAX_AGE",
    "NOTICE_INTERVAL",
    "COUNTER_SHARDS",
    "COUNT_CACHE_SECONDS",
    "PUBLIC_MAX_AGE",
    "PUBLIC_STALE_WHILE_REVALIDATE",
    "NOTICE_POLL_SECONDS",
    "NOTICE_BATCH_SIZE",
    "NOTICE_CLAIM_TIMEOUT",
    "BROADCAST_BATCH_SIZE",
    "BROADCAST_WINDOW",
    "BROADCAST_RATE",
    "BROADCAST_CLAIM_TIMEOUT",
    "BROADCAST_MAX_ATTEMPTS",
    "BROADCAST_RETRY_BASE",
    "BROADCAST_RETRY_MAX",
    "BROADCAST_POLL_SECONDS",
    "STRIPE_MAX_NETWORK_RETRIES",
    "STRIPE_TIMEOUT",
    "UNAVAILABLE_RETRY_AFTER",
    "STRIPE_WEBHOOK_TOLERANCE",
    "DONATION_MIN",
    "DONATION_MAX",
    "DONATION_MANAGE_LINK_MAX_AGE",
    "ORGANISER_SESSION_IDLE_MINUTES",
    "ORGANISER_SESSION_MAX_HOURS",
    "RETENTION_PENDING_DAYS",
    "RETENTION_CLOSED_MONTHS",
    "RETENTION_DONATION_YEARS",
    "RETENTION_INTERVAL",
    "CLIENT_KEY_HOURS",
    "CLIENT_KEY_KEEP_DAYS",
    "ALTCHA_MAX_NUMBER",
]
ENV_BOOLS = ["MAIL_USE_TLS", "MAIL_USE_SSL", "HSTS", "KEEP_OVER_LIMIT_AS_FRAUDULENT"]


# What Celery beat runs: name -> (task, the setting holding its period).
BEAT_SCHEDULE = {
    "send-due-signer-emails": (
        "campaign.petition.tasks.send_due_notices",
        "NOTICE_POLL_SECONDS",
    ),
    "send-due-subscriber-emails": (
        "campaign.mailing.tasks.send_due_subscriber_notices",
        "NOTICE_POLL_SECONDS",
    ),
    "send-due-receipts": (
        "campaign.donate.tasks.send_due_receipts",
        "NOTICE_POLL_SECONDS",
    ),
    "sweep-petition-pdfs": (
        "campaign.petition.tasks.sweep_petition_pdfs",
        "PDF_SWEEP_SECONDS",
    ),
    "start-and-resume-broadcasts": (
        "campaign.mailing.tasks.resume_broadcasts",
        "BROADCAST_POLL_SECONDS",
    ),
    "apply-retention": (
        "campaign.retention.tasks.apply_retention",
        "RETENTION_INTERVAL",
    ),
}


# The retention periods: each a whole number, 0 meaning "never".
RETENTION_PERIODS = (
    "RETENTION_PENDING_DAYS",
    "RETENTION_CLOSED_MONTHS",
    "RETENTION_DONATION_YEARS",
    "CLIENT_KEY_KEEP_DAYS",
)

# Seconds to wait for Redis before treating it as down (rate limits, cache).
REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}
# CACHE_TYPE values naming Flask-Caching's Redis backend; they get ours, which
# treats an unreachable Redis as a cache miss (campaign/caching.py).
REDIS_CACHE_NAMES = {"RedisCache", "redis", "flask_caching.backends.RedisCache"}


def site_text(name: str) -> str:
    """A setting readers see (``SITE_NAME``, ``DONATE_BANNER``) in the current
    language: the operator's words for it (``SITE_NAME_PS``), else the default
    translated, else the operator's words as set, which are not a message."""
    config = current_app.config
    locale = get_locale()
    own = locale and config.get(f"{name}_{str(locale).upper()}")
    if own:
        return own
    value = config[name]
    return gettext(value) if value == getattr(Config, name) else value


def load_config(app, test_config: dict | None = None) -> None:
    """Fill ``app.config`` from the class named by CAMPAIGN_ENV, then the env."""
    name = "testing" if test_config else os.environ.get("CAMPAIGN_ENV", "development")
    app.config.from_object(CONFIGS[name])
    for key in ENV_STRINGS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    for key in ENV_INTS:
        app.config[key] = env_int(key, app.config[key])
    for key in ENV_BOOLS:
        app.config[key] = env_bool(key, app.config[key])
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(
            os.environ["DATABASE_URL"]
        )
    if test_config:
        app.config.update(test_config)
    finish_config(app, name)


def normalise_db_url(url: str) -> str:
    """Use psycopg 3 for ``postgres://`` URLs as hosting providers write them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def finish_config(app, name: str) -> None:
    """Derive the settings that depend on others."""
    config = app.config
    for setting, (file_name, make) in INSTANCE_SECRETS.items():
        if not config.get(setting):
            if name == "production":
                raise RuntimeError(f"{setting} must be set in production.")
            config[setting] = instance_secret(app.instance_path, file_name, make)
    KeyRing.from_text(config["ENCRYPTION_KEYS"])  # a bad key stops the start
    redis_url = config.get("REDIS_URL")
    broker = config.get("CELERY_BROKER_URL") or redis_url
    if not broker:
        # An installed site's instance folder (<prefix>/var/campaign-instance)
        # does not exist until something makes it, and SQLite will not.
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        broker = f"sqla+sqlite:///{Path(app.instance_path) / 'broker.sqlite'}"
    config["CELERY"] = {
        "broker_url": broker,
        "task_ignore_result": True,
        "task_always_eager": config.get("CELERY_TASK_ALWAYS_EAGER", False),
        "task_eager_propagates": True,
        "task_acks_late": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "beat_schedule": {
            name: {"task": task, "schedule": float(config[every])}
            for name, (task, every) in BEAT_SCHEDULE.items()
        },
    }
    if broker.startswith(("redis://", "rediss://")):
        # Bounds connecting only: the worker's long polls keep their own timeout.
        config["CELERY"]["broker_transport_options"] = {
            "socket_connect_timeout": REDIS_TIMEOUTS["socket_connect_timeout"]
        }
    config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # An unreachable (not just refusing) Redis must not hold requests for
        # the operating system's connect timeout.
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", dict(REDIS_TIMEOUTS))
    if config["CACHE_TYPE"] in REDIS_CACHE_NAMES:
        config["CACHE_TYPE"] = "campaign.caching.RedisCache"
        config.setdefault("CACHE_OPTIONS", dict(REDIS_TIMEOUTS))
    config["DONATION_CURRENCY"] = config["DONATION_CURRENCY"].lower()
    presets = [w.strip() for w in config["DONATION_PRESETS"].split(",") if w.strip()]
    if not all(word.isdigit() for word in presets):
        raise RuntimeError("DONATION_PRESETS must be whole numbers, like 10,25,50.")
    for setting in RETENTION_PERIODS:
        if config[setting] < 0:
            raise RuntimeError(f"{setting} must be 0 (never) or more.")
    if config["CLIENT_KEY_HOURS"] < 1:
        raise RuntimeError("CLIENT_KEY_HOURS must be 1 or more.")
    if not config["DONATION_CAMPAIGN"]:
        config["DONATION_CAMPAIGN"] = urlsplit(config["BASE_URL"]).netloc
    config.setdefault("MAIL_DIR", str(Path(app.instance_path) / "mail"))
