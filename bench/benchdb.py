"""The benchmark's own PostgreSQL database and Redis db: create, prepare, flush."""

import subprocess
import sys
from pathlib import Path

import psycopg
import redis
from psycopg import sql

from campaign.config import INSTANCE_SECRETS

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).with_name("flask")


def app_secrets() -> dict[str, str]:
    """Fresh values for every secret production requires (SECRET_KEY,
    ENCRYPTION_KEYS, HASH_KEY, CLIENT_KEY_SECRET), made as the app makes its
    own: one set per run, given to every process of that run, so rows one
    writes the others can read and find."""
    return {name: make() for name, (_, make) in INSTANCE_SECRETS.items()}


def recreate_database(admin_url: str, name: str) -> None:
    """Drop and create the benchmark database, so every run starts equal."""
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: its name must contain 'bench'.")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        ident = sql.Identifier(name)
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident)
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(ident))


def empty_database(url: str) -> None:
    """Create the database, or drop everything in it, so every run starts equal.

    Emptying rather than dropping lets a run use a database it was given
    (``test_export``, say) without rights over the whole server.
    """
    server, _, name = url.rpartition("/")
    if "bench" not in name and "test" not in name:
        raise SystemExit(f"Refusing to empty {name!r}: its name lacks 'bench'/'test'.")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not found:
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            connection.execute(create)
            return
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def migrate_and_seed(env: dict[str, str]) -> None:
    """Run ``flask db upgrade`` and ``flask campaign seed`` as an operator would.

    ``env`` must hold the run's ``app_secrets()`` when it names production.
    """
    for command in (["db", "upgrade"], ["campaign", "seed"]):
        subprocess.run(
            [str(FLASK), *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )


def mint_tokens(env: dict[str, str], slug: str, count: int, out: Path) -> list[str]:
    """Confirmation tokens for ``count`` pending signatures, minted by the app."""
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("mint_tokens.py"))]
        + [slug, str(count), str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.read_text().split()


def count_signatures(db_url: str) -> dict[str, int]:
    """How many signatures the database holds, by state."""
    with psycopg.connect(db_url) as connection:
        rows = connection.execute(
            "SELECT state, count(*) FROM signature GROUP BY state"
        ).fetchall()
    return dict(rows)


def flush_redis(url: str) -> None:
    """Empty the benchmark's Redis db: rate-limit windows and queued tasks."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def queued_tasks(url: str) -> int:
    """How many Celery messages wait in the default queue."""
    client = redis.Redis.from_url(url)
    try:
        return client.llen("celery")
    finally:
        client.close()


def git_commit() -> str:
    """The checked-out commit (read only), for the record."""
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()
