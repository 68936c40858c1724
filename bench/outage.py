"""Outage drill: gunicorn in production config while Redis, then PostgreSQL, stop.

Usage: ``.venv/bin/python bench/outage.py --database-url postgresql://…/DB``
(the database is emptied, migrated and seeded). Signers sign without pause
from several threads; Redis is stopped and restarted, then the database is
cut behind a TCP proxy and restored. Prints the answers per phase and checks
that every acknowledged signature is stored exactly once.
"""

import argparse
import collections
import itertools
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import benchdb
import gunicorn_server
import sqlalchemy as sa
from gunicorn_server import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from campaign.encryption import KeyRing  # noqa: E402
from tests.servers import RedisServer, TcpProxy  # noqa: E402

SLUG = "no-recognition-for-gender-apartheid"
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report redirects instead of following them (303 is the acknowledgement)."""

    def redirect_request(self, *args, **kwargs):
        """Follow nothing."""
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def token_of(page: str) -> str:
    """The page's CSRF token; "" for public forms, which carry none."""
    found = CSRF.search(page)
    return found.group(1) if found else ""


def request(url: str, data: dict | None = None, cookie: str = "") -> tuple:
    """One request: (status, body, Set-Cookie)."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    headers = {"Cookie": cookie, "Accept-Language": "en"}
    try:
        with OPENER.open(urllib.request.Request(url, body, headers), timeout=30) as r:
            return r.status, r.read().decode(), r.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Set-Cookie", "")
    except OSError:
        return "no answer", "", ""


class Signers:
    """Threads signing as new people, each answer recorded with its phase."""

    def __init__(self, base: str, threads: int):
        """Prepare ``threads`` signers against the site at ``base``."""
        self.base, self.threads = base, threads
        self.phase = "normal"
        self.answers = collections.Counter()
        self.acknowledged: list[str] = []
        self.numbers = itertools.count()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def run(self) -> list[threading.Thread]:
        """Start signing."""
        workers = [threading.Thread(target=self._sign) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        return workers

    def _sign(self) -> None:
        status, page, set_cookie = request(f"{self.base}/petitions/{SLUG}")
        token, cookie = token_of(page), set_cookie.split(";")[0]
        while not self.stopping.is_set():
            email = f"signer{next(self.numbers)}@example.org"
            form = {"name": "Ada", "email": email, "country": "GB", "csrf_token": token}
            phase = self.phase
            status, _, _ = request(f"{self.base}/petitions/{SLUG}/sign", form, cookie)
            with self.lock:
                self.answers[(phase, status)] += 1
                if status == 303:
                    self.acknowledged.append(email)


def main() -> None:
    """Run the drill and print what the signers saw."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=float, default=10, help="each outage")
    args = parser.parse_args()
    folder = ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    url = sa.make_url(args.database_url).set(drivername="postgresql+psycopg")
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port)
    redis_server = RedisServer(folder)
    redis_server.start()
    port = gunicorn_server.free_port()
    env = {
        **os.environ,
        "CAMPAIGN_ENV": "production",
        **benchdb.app_secrets(),
        "DATABASE_URL": proxied.render_as_string(hide_password=False),
        "REDIS_URL": redis_server.url,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "SIGN_RATE_LIMIT": "100000 per minute",
        "FLASK_APP": "wsgi",
    }
    plain = url.set(drivername="postgresql")  # for psycopg itself
    benchdb.empty_database(plain.render_as_string(hide_password=False))
    benchdb.migrate_and_seed(env)
    server = gunicorn_server.start(
        Settings("gthread", 2, 4), env, port, 0, folder / "outage-gunicorn.log"
    )
    base = f"http://127.0.0.1:{port}"
    signers = Signers(base, threads=8)
    others = collections.Counter()
    try:
        workers = signers.run()
        time.sleep(3)
        signers.phase = "redis down"
        redis_server.stop()
        time.sleep(1)
        status, page, cookie = request(f"{base}/join")
        token, cookie = token_of(page), cookie.split(";")[0]
        form = {"email": "joiner@example.org", "source": "join", "csrf_token": token}
        others["join, redis down", request(f"{base}/join", form, cookie)[0]] += 1
        status, page, cookie = request(f"{base}/organiser/login")
        token, cookie = CSRF.search(page).group(1), cookie.split(";")[0]
        form = {"email": "x@example.org", "password": "wrong", "csrf_token": token}
        login = request(f"{base}/organiser/login", form, cookie)[0]
        others["sign-in (wrong password), redis down", login] += 1
        others["healthz, redis down", request(f"{base}/healthz")[0]] += 1
        time.sleep(args.seconds - 1)
        signers.phase = "redis back"
        redis_server.start()
        time.sleep(5)
        others["healthz, redis back", request(f"{base}/healthz")[0]] += 1
        signers.phase = "database down"
        proxy.cut()
        time.sleep(args.seconds)
        signers.phase = "database back"
        proxy.restore()
        time.sleep(5)
        others["healthz, all back", request(f"{base}/healthz")[0]] += 1
    finally:
        signers.stopping.set()
        for worker in workers:
            worker.join()
        gunicorn_server.stop(server)
        redis_server.stop()
    for (phase, status), number in sorted(signers.answers.items(), key=str):
        print(f"sign  {phase:14} {status}: {number}")
    for what, status in others:
        print(f"{what}: {status}")
    # Addresses are stored encrypted: open them with the run's keys.
    ring = KeyRing.from_text(env["ENCRYPTION_KEYS"])
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        sealed = connection.scalars(sa.text("SELECT email FROM signature"))
        stored = collections.Counter(
            email.decode() for email in ring.decrypt_all(sealed, b"signature.email")
        )
    missing = [email for email in signers.acknowledged if email not in stored]
    doubled = [email for email, times in stored.items() if times > 1]
    print(
        f"acknowledged {len(signers.acknowledged)}, stored {sum(stored.values())}, "
        f"acknowledged but missing {len(missing)}, stored twice {len(doubled)}"
    )
    proxy.close()


if __name__ == "__main__":
    main()
