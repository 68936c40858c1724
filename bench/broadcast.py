"""Broadcast benchmark: the app's broadcast engine beside a plain smtplib loop.

Usage: ``.venv/bin/python bench/broadcast.py [--subscribers N] [--backends ...]``.
Both send N messages over one SMTP connection into the same kind of local sink
(bench/smtp_sink.py, a separate aiosmtpd process, restarted per phase) in the
same run. The app's figure is the real CLI, ``flask campaign send-broadcast``,
end to end: start-up, making the ledger, rendering, every copy personalised,
every outcome recorded. Target (issue 4): at least 0.8x the loop's rate, each
recipient exactly once.
"""

import argparse
import json
import os
import secrets
import smtplib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchdb

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).with_name("flask")
PY_SPY = Path(sys.executable).with_name("py-spy")
SINK = Path(__file__).resolve().parent / "smtp_sink.py"
MIN_RATIO = 0.8
BODY = (
    "Dear friend,\n\nThe campaign passed a milestone this week. **Thank you.**\n\n"
    "Here is what happens next, and how you can help: [read more](https://example.org/next).\n"
) * 4


def parse_args() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=["postgresql", "sqlite"],
        default=["postgresql", "sqlite"],
    )
    parser.add_argument(
        "--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--db-name", default="campaign_bench_broadcast")
    parser.add_argument("--profile", action="store_true", help="py-spy the app run")
    return parser.parse_args()


class SinkProcess:
    """The SMTP sink in its own process, for one phase of the run."""

    def __init__(self, folder: Path, name: str):
        """Start the sink on a free port."""
        self.report = folder / f"{name}.json"
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(SINK), str(self.port), str(self.report)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> dict:
        """Stop the sink and read what it received."""
        self.process.terminate()
        self.process.wait(timeout=30)
        return json.loads(self.report.read_text())


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtplib_loop(port: int, count: int, message: bytes) -> float:
    """The baseline: one connection, one ``sendmail`` per recipient; seconds."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for number in range(count):
            connection.sendmail(
                "campaign@example.org", [f"reader{number}@example.org"], message
            )
    return time.perf_counter() - started


def sample_message(env: dict) -> bytes:
    """One copy as the app builds it, so the loop sends the same bytes."""
    code = (
        "from campaign import create_app; "
        "from campaign.mailing.compose import BulkMessage; import sys\n"
        "with create_app().test_request_context():\n"
        f"    m = BulkMessage('Milestone', {BODY!r})\n"
        "    sys.stdout.buffer.write(m.for_recipient('reader0@example.org', 'x' * 43))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True
    ).stdout


def load_subscribers(env: dict, count: int) -> None:
    """Put ``count`` confirmed subscribers and one draft broadcast in the database.

    In a child process with the run's environment, through the app's models,
    so every name and address is encrypted under the run's ENCRYPTION_KEYS and
    ``email_key`` is its keyed hash under HASH_KEY, as the app itself stores them.
    """
    subprocess.run(
        [sys.executable, __file__, "--load-subscribers", str(count)],
        cwd=ROOT,
        env=env,
        check=True,
    )


def insert_subscribers(count: int) -> None:
    """The child's work: bulk inserts, one executemany per batch of 10,000."""
    import sqlalchemy as sa

    from campaign import create_app
    from campaign.encryption import email_hash
    from campaign.extensions import db
    from campaign.mailing.models import Broadcast, Subscriber, SubscriberState
    from campaign.models import now_utc

    with create_app().app_context():
        now = now_utc()
        for first in range(0, count, 10_000):
            rows = []
            for n in range(first, min(first + 10_000, count)):
                email = f"reader{n}@example.org"
                rows.append(
                    {
                        "email": email,
                        "name": f"Reader {n}",
                        "email_key": email_hash(email),
                        "token": secrets.token_urlsafe(32),
                        "state": SubscriberState.SUBSCRIBED,
                        "locale": "en",
                        "soft_bounces": 0,
                        "confirmed_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            db.session.execute(sa.insert(Subscriber), rows)
        db.session.add(Broadcast(subject="Milestone", body_markdown=BODY))
        db.session.commit()
        db.engine.dispose()


def run_backend(backend: str, args, folder: Path) -> dict:
    """Load the subscribers, then time the loop and the app, each into a fresh sink."""
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "CAMPAIGN_ENV": "production",
        # One set per backend: the loading child, the sample copy and the
        # CLI must all open and find the same rows.
        **benchdb.app_secrets(),
        "BASE_URL": "https://campaign.example.org",
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_DEFAULT_SENDER": "campaign@example.org",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite'}",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
    else:
        benchdb.recreate_database(args.pg_admin_url, args.db_name)
        env["DATABASE_URL"] = (
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.db_name}"
        )
    benchdb.migrate_and_seed(env)
    load_subscribers(env, args.subscribers)
    message = sample_message(env)

    sink = SinkProcess(folder, f"{backend}-loop")
    loop_seconds = smtplib_loop(sink.port, args.subscribers, message)
    loop = sink.stop()

    sink = SinkProcess(folder, f"{backend}-app")
    env["MAIL_PORT"] = str(sink.port)
    started = time.perf_counter()
    profile = (
        [
            str(PY_SPY),
            "record",
            "-o",
            str(ROOT / "bench" / "results" / f"broadcast-{backend}.txt"),
            "-f",
            "raw",
            "--threads",
            "--",
        ]
        if args.profile
        else []
    )
    subprocess.run(
        [*profile, str(FLASK), "campaign", "send-broadcast", "1"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    app_seconds = time.perf_counter() - started
    app = sink.stop()
    n = args.subscribers
    return {
        "backend": backend,
        "subscribers": n,
        "message_bytes": len(message),
        "loop_per_s": round(loop["messages"] / loop_seconds),
        "app_per_s": round(app["messages"] / app_seconds),
        "ratio": round(loop_seconds / app_seconds, 2),
        "loop_received": loop["messages"],
        "app_received": app["messages"],
        "app_recipients": app["recipients"],
        "app_max_copies": app["max_copies"],
        "exactly_once": app["messages"] == app["recipients"] == n
        and app["max_copies"] == 1,
    }


def main() -> None:
    """Run each backend and print a table plus the verdict."""
    args = parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            results.append(run_backend(backend, args, Path(tmp)))
            print(json.dumps(results[-1]), flush=True)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "broadcast.json").write_text(json.dumps(results, indent=2))
    print(f"\n{'backend':<11} {'loop/s':>8} {'app/s':>8} {'ratio':>6}  exactly once")
    for r in results:
        verdict = "yes" if r["exactly_once"] else "NO"
        print(
            f"{r['backend']:<11} {r['loop_per_s']:>8} {r['app_per_s']:>8} "
            f"{r['ratio']:>6}  {verdict}   (target ratio >= {MIN_RATIO})"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--load-subscribers"]:
        insert_subscribers(int(sys.argv[2]))
    else:
        main()
