"""CPU per request: gunicorn's and each core's load from /proc (for load.py),
and, run as a script, every public page, sign and confirm in process.

Requests/s on a shared 2-core machine move with whatever else runs; the CPU
time gunicorn itself spends per request does much less, so it is reported
beside them.
"""

import contextlib
import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by one process (all threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and its direct children (gunicorn's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for each in (pid, *map(int, children)):
        with contextlib.suppress(FileNotFoundError):  # a worker that just exited
            total += process_seconds(each)
    return total


def core_ticks() -> dict[str, tuple[int, int]]:
    """Busy and total ticks per CPU core, from /proc/stat."""
    ticks = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            numbers = [int(value) for value in values]
            idle = numbers[3] + numbers[4]  # idle + iowait
            ticks[name] = (sum(numbers) - idle, sum(numbers))
    return ticks


class Meter:
    """CPU used by a process tree, and core load, between start() and stop()."""

    def __init__(self, pid: int):
        """Measure the tree rooted at ``pid``."""
        self.pid = pid

    def start(self) -> None:
        """Take the first readings."""
        self.seconds = tree_seconds(self.pid)
        self.ticks = core_ticks()

    def stop(self, requests: int) -> dict:
        """CPU milliseconds per request and each core's busy percentage."""
        used = tree_seconds(self.pid) - self.seconds
        figures = {"server_cpu_ms": round(1000 * used / max(requests, 1), 2)}
        for name, (busy, total) in core_ticks().items():
            before_busy, before_total = self.ticks[name]
            share = (busy - before_busy) / max(total - before_total, 1)
            figures[f"{name}_busy_pct"] = round(100 * share)
        return figures


# --- In-process CPU per request -------------------------------------------
#
# ``python bench/cpu.py``: every public page, sign and confirm through the
# app's test client in this one process, on PostgreSQL and Redis in the
# production configuration, as CPU seconds per request (time.process_time:
# the app's own work, not the database server's). No gunicorn or socket
# costs, so the figures are lower than load.py's; the ratios are what counts.

SLUG = "no-recognition-for-gender-apartheid"
PAGES = {
    "donate": "/donate",  # the baseline: a small template, no database
    "story": "/",
    "story fa": "/fa/",  # Dari, right to left
    "story ps": "/ps/",  # Pashto
    "petition": f"/petitions/{SLUG}",
    "join": "/join",
    "petition thanks": f"/petitions/{SLUG}/thanks",
    "petition check-email": f"/petitions/{SLUG}/check-email",
    "join check-email": "/join/check-email",
    "donate thanks": "/donate/thanks",
}
CSRF_VALUE = r'name="csrf_token"[^>]*?value="([^"]+)"'
# With --fresh every page's URL carries this unknown query string: the app's
# page cache (campaign/http_cache.py) keeps only query-less URLs, so each
# request is a real render, with the app's data caches (count, story) warm.
FRESH_QUERY = "fresh=1"


def fresh(path: str) -> str:
    """``path`` with FRESH_QUERY added, so the page is rendered, not remembered."""
    return f"{path}{'&' if '?' in path else '?'}{FRESH_QUERY}"


def _parse_args():
    """Read the command line."""
    import argparse

    parser = argparse.ArgumentParser(description="In-process CPU per request.")
    add = parser.add_argument
    add(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/campaign_bench_cpu",
    )
    add("--redis-db", type=int, default=3, help="flushed before and after (3)")
    add("--requests", type=int, default=100, help="per scenario per round (100)")
    add("--rounds", type=int, default=5, help="rounds; the median is kept (5)")
    add("--slice", type=int, default=10, help="requests per turn of a scenario (10)")
    add("--profile", action="store_true", help="cProfile one round per scenario")
    add(
        "--fresh",
        action="store_true",
        help="render every page (an unknown query string bypasses the page cache)",
    )
    return parser.parse_args()


class _Requests:
    """The scenarios' requests against one app, each new client address fresh."""

    def __init__(self, app):
        """Clients for first visits (no cookie) and for the signer's session."""
        import itertools
        import re

        self.app = app
        self.anonymous = app.test_client(use_cookies=False)
        self.signer = app.test_client()
        self.addresses = (
            f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in itertools.count(1)
        )
        self.emails = (f"cpu-{n}@bench.example" for n in itertools.count(1))
        page = self.signer.get(PAGES["petition"], headers=self._headers()).text
        token = re.search(CSRF_VALUE, page)
        self.token = token.group(1) if token else None  # none once CSRF is origin-based
        self.tokens: list[str] = []

    def _headers(self) -> dict:
        """A browser behind the TLS proxy, from an address of its own."""
        return {"X-Forwarded-Proto": "https", "X-Forwarded-For": next(self.addresses)}

    def page(self, path: str) -> None:
        """GET one page as a first visit."""
        response = self.anonymous.get(path, headers=self._headers())
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")

    def sign(self) -> None:
        """POST one new signature, as the petition page's form does."""
        data = {"name": "Bench Signer", "email": next(self.emails), "country": "GB"}
        if self.token:
            data["csrf_token"] = self.token
        headers = self._headers()
        headers["Referer"] = f"https://localhost{PAGES['petition']}"
        headers["Origin"] = "https://localhost"
        response = self.signer.post(
            f"/petitions/{SLUG}/sign", data=data, headers=headers
        )
        if response.status_code != 303:
            raise RuntimeError(f"sign: {response.status_code}")

    def mint(self, count: int) -> None:
        """Links for the pending signatures not yet confirmed (unmeasured)."""
        import sqlalchemy as sa

        from campaign.extensions import db
        from campaign.petition.models import Signature, SignatureState
        from campaign.petition.tokens import confirmation_token

        with self.app.app_context():
            query = (
                sa.select(Signature)
                .where(Signature.state == SignatureState.PENDING)
                .order_by(Signature.id.desc())
                .limit(count)
            )
            self.tokens = [confirmation_token(s) for s in db.session.scalars(query)]

    def confirm(self) -> None:
        """Follow one confirmation link, as a signer's mail client does."""
        path = f"/petitions/{SLUG}/confirm/{self.tokens.pop()}"
        response = self.anonymous.get(path, headers=self._headers())
        if response.status_code != 303:
            raise RuntimeError(f"confirm: {response.status_code}")


def _measure(run, requests: int, profiler=None) -> float:
    """CPU milliseconds per call of ``run``, over ``requests`` calls."""
    import time

    start = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(requests):
        run()
    if profiler:
        profiler.disable()
    return 1000 * (time.process_time() - start) / requests


def main() -> None:
    """Measure every scenario in rounds; print and save medians and ratios."""
    import cProfile
    import json
    import statistics
    import sys

    import benchdb

    args = _parse_args()
    driver_url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    env = dict(os.environ)
    env.pop("SIGN_RATE_LIMIT", None)
    env.update(
        CAMPAIGN_ENV="production",
        **benchdb.app_secrets(),
        DATABASE_URL=driver_url,
        REDIS_URL=redis_url,
        PROXY_FIX_X_FOR="1",
        MAIL_BACKEND="file",
        FLASK_APP="wsgi",
    )
    benchdb.empty_database(args.database_url)
    benchdb.flush_redis(redis_url)
    benchdb.migrate_and_seed(env)
    os.environ.update(env)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from campaign import create_app

    requests = _Requests(create_app())
    paths = {name: fresh(path) if args.fresh else path for name, path in PAGES.items()}
    scenarios = {
        name: (lambda p=path: requests.page(p)) for name, path in paths.items()
    }
    scenarios["sign"] = requests.sign
    scenarios["confirm"] = requests.confirm
    figures: dict[str, list[float]] = {name: [] for name in scenarios}
    slices = max(1, args.requests // args.slice)
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    try:
        for round_ in range(args.rounds + 1):  # round 0 warms up, unmeasured
            profile = args.profile and round_ == 1
            profilers = {name: cProfile.Profile() for name in scenarios if profile}
            spent = dict.fromkeys(scenarios, 0.0)
            # Scenarios take turns every --slice requests, so a neighbour's
            # load on the shared machine weighs on all of them alike.
            for _ in range(slices):
                for name, run in scenarios.items():
                    if name == "confirm":  # links for the signatures just made
                        requests.mint(args.slice)
                    spent[name] += _measure(run, args.slice, profilers.get(name))
            if round_:
                for name, ms in spent.items():
                    figures[name].append(ms / slices)
            for name, profiler in profilers.items():
                profiler.dump_stats(results / f"cpu-{name.replace(' ', '-')}.prof")
    finally:
        benchdb.flush_redis(redis_url)
    medians = {name: statistics.median(values) for name, values in figures.items()}
    table = {
        name: {
            "cpu_ms": round(ms, 3),
            "x_donate": round(ms / medians["donate"], 2),
            "x_sign": round(ms / medians["sign"], 2),
            "rounds_ms": [round(v, 3) for v in figures[name]],
        }
        for name, ms in medians.items()
    }
    print(f"{'scenario':22} {'cpu ms':>8} {'x donate':>9} {'x sign':>7}")
    for name, row in table.items():
        ratios = f"{row['x_donate']:9.2f} {row['x_sign']:7.2f}"
        print(f"{name:22} {row['cpu_ms']:8.3f} {ratios}")
    record = {
        "commit": benchdb.git_commit(),
        "requests": args.requests,
        "rounds": args.rounds,
        "slice": args.slice,
        "fresh": args.fresh,
        "scenarios": table,
    }
    (results / "cpu-latest.json").write_text(json.dumps(record, indent=2))
    if args.profile:
        print("profiles: bench/results/cpu-<scenario>.prof (python -m pstats)")


if __name__ == "__main__":
    main()
