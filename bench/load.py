"""Load benchmark: the sign path and friends under gunicorn on PostgreSQL.

Usage: ``.venv/bin/python bench/load.py [--quick] [--duration N]``; see
bench/README.md for what is measured and how.
"""

import argparse
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import benchdb
import cpu
import gunicorn_server
import nginx_server
import report
import wrk_runner
from gunicorn_server import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PY_SPY = Path(sys.executable).with_name("py-spy")
SLUG = "no-recognition-for-gender-apartheid"
PETITION = f"/petitions/{SLUG}"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
# More confirmations per second than any run reaches here: links are minted
# for this rate so that no link is ever clicked twice.
CONFIRM_CEILING = 2500
ADDRESS_BLOCK = 2**20  # client addresses set aside for one wrk run
SERVER_CORE, LOAD_CORE = 0, 1


def parse_args() -> argparse.Namespace:
    """Read the command line; --quick shortens every unset duration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: a few seconds each")
    add("--duration", type=float, help="sign seconds (60; quick 5)")
    add("--other-duration", type=float, help="other scenarios' seconds (20; quick 3)")
    add("--warmup", type=float, help="unmeasured seconds before each (5; quick 1)")
    add(
        "--gunicorn",
        type=Settings.parse,
        default=Settings("gthread", 2, 4),
        help="worker model: sync:WORKERS or gthread:WORKERSxTHREADS (gthread:2x4)",
    )
    add(
        "--sweep",
        nargs="+",
        type=Settings.parse,
        metavar="MODEL",
        help="run every scenario for each worker model; writes results/sweep.json",
    )
    add("--connections", type=int, default=16, help="wrk -c (16)")
    add("--wrk-threads", type=int, default=2, help="wrk -t (2)")
    add("--profile", action="store_true", help="py-spy the workers during sign")
    add("--no-nginx", action="store_true", help="skip the pages through nginx")
    add("--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL")
    add("--db-name", default="campaign_bench", help="dropped and re-created")
    add("--redis-db", type=int, default=3, help="flushed before and after")
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 5 if args.quick else 60
    if args.other_duration is None:
        args.other_duration = 3 if args.quick else 20
    if args.warmup is None:
        args.warmup = 1 if args.quick else 5
    return args


def app_env(args: argparse.Namespace) -> dict[str, str]:
    """The production environment gunicorn and the flask commands run in."""
    env = dict(os.environ)
    env.pop("SIGN_RATE_LIMIT", None)  # the app's default limit, as in production
    driver_url = args.pg.replace("postgresql://", "postgresql+psycopg://", 1)
    env.update(
        CAMPAIGN_ENV="production",
        **benchdb.app_secrets(),
        DATABASE_URL=f"{driver_url}/{args.db_name}",
        REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        PROXY_FIX_X_FOR="1",
        BASE_URL="https://campaign.example",
        MAIL_BACKEND="file",
        FLASK_APP="wsgi",
    )
    return env


def petition_form(base: str) -> tuple[str, str]:
    """GET the petition page once: its CSRF token and session cookie, if any.

    The public sign form carries neither any more (campaign/origin.py checks
    where a POST came from instead): both are then "".
    """
    request = urllib.request.Request(
        base + PETITION, headers={"X-Forwarded-Proto": "https"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
        cookie = SimpleCookie(response.headers.get("Set-Cookie", ""))
    token = CSRF_FIELD.search(page)
    session = cookie["session"].value if "session" in cookie else ""
    return urllib.parse.quote(token.group(1) if token else "", safe=""), session


@contextlib.contextmanager
def profiling(enabled: bool, pid: int, seconds: float):
    """Sample gunicorn's workers with py-spy (GIL holders only) meanwhile."""
    if not enabled:
        yield
        return
    output = RESULTS / "sign-profile.txt"
    process = subprocess.Popen(
        ["taskset", "-c", str(LOAD_CORE), str(PY_SPY), "record", "--pid", str(pid)]
        + ["--subprocesses", "--nonblocking", "--gil", "--rate", "250"]
        + ["--duration", str(round(seconds)), "--format", "raw"]
        + ["--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.wait(timeout=120)
    print(f"profile: .venv/bin/python bench/profile_summary.py {output}")


class Suite:
    """Every scenario, in order, against one running gunicorn."""

    def __init__(
        self, args: argparse.Namespace, env: dict, server, port: int, proxy_port=None
    ):
        """Remember the options, the app environment, the server and the proxy."""
        self.args, self.env, self.server = args, env, server
        self.base = f"http://127.0.0.1:{port}"
        self.proxy = f"http://127.0.0.1:{proxy_port}" if proxy_port else None
        self.load = {
            "core": LOAD_CORE,
            "threads": args.wrk_threads,
            "connections": args.connections,
        }
        self.runs = 0

    def wrk(self, script, path, extra, seconds, base=None) -> dict:
        """One wrk run of a Lua script against a path (of gunicorn or ``base``)."""
        self.runs += 1
        url = (base or self.base) + path
        return wrk_runner.run(script, url, extra, self.load, seconds)

    def measured(self, script, path, extra, seconds, base=None) -> dict:
        """A warm-up run, then the measured one; ``extra(phase)`` gives the args."""
        if self.args.warmup:
            self.wrk(script, path, extra("warmup"), self.args.warmup, base)
        run_args = extra("run")  # before the meter: sign.lua's args GET a page
        meter = cpu.Meter(self.server.pid)
        meter.start()
        result = self.wrk(script, path, run_args, seconds, base)
        return {**result, **meter.stop(result["requests"])}

    @staticmethod
    def no_args(phase: str) -> list[str]:
        """get.lua takes no arguments."""
        return []

    def sign_args(self, phase: str) -> list[str]:
        """sign.lua's arguments: a fresh form, emails and block of addresses."""
        token, cookie = petition_form(self.base)
        referer = self.base.replace("http://", "https://") + PETITION
        tag = f"{secrets.token_hex(3)}{phase[0]}"
        first = (self.runs * ADDRESS_BLOCK) % 2**24
        threads = str(self.args.wrk_threads)
        return [f"{PETITION}/sign", token, cookie, referer, tag, threads, str(first)]

    def mint(self) -> dict[str, Path]:
        """Token files for the confirm warm-up and run, sharing no link."""
        warm = round(self.args.warmup * CONFIRM_CEILING)
        run = round(self.args.other_duration * CONFIRM_CEILING)
        tokens = benchdb.mint_tokens(
            self.env, SLUG, warm + run, RESULTS / "tokens-all.txt"
        )
        paths = {}
        for phase, lines in (("warmup", tokens[:warm]), ("run", tokens[warm:])):
            paths[phase] = RESULTS / f"tokens-{phase}.txt"
            paths[phase].write_text("\n".join(lines) + "\n")
        return paths

    def pages(self, other: float) -> dict:
        """The pages supporters open, first visits (no cookie): straight from
        gunicorn, then through nginx with deploy/nginx's cache when it runs."""
        found = {
            "story": self.measured("get.lua", "/", self.no_args, other),
            "petition": self.measured("get.lua", PETITION, self.no_args, other),
        }
        if self.proxy:
            for name, path in (("story.nginx", "/"), ("petition.nginx", PETITION)):
                found[name] = self.measured(
                    "get.lua", path, self.no_args, other, self.proxy
                )
        return found

    def run(self) -> dict:
        """Baseline, pages, count.json, sign (profiled if asked), then confirm."""
        other = self.args.other_duration
        results = {
            "baseline": self.measured("get.lua", "/donate", self.no_args, other),
            **self.pages(other),
            "count.json": self.measured(
                "get.lua", f"{PETITION}/count.json", self.no_args, other
            ),
        }
        seconds = self.args.warmup + self.args.duration + 1
        with profiling(self.args.profile, self.server.pid, seconds):
            results["sign"] = self.measured(
                "sign.lua", f"{PETITION}/sign", self.sign_args, self.args.duration
            )
        tokens = self.mint()
        prefix = f"{PETITION}/confirm/"
        threads = str(self.args.wrk_threads)
        results["confirm"] = self.measured(
            "confirm.lua",
            prefix,
            lambda phase: [prefix, str(tokens[phase]), threads],
            other,
        )
        return results


def run_model(args: argparse.Namespace, env: dict, settings: Settings) -> dict:
    """Start gunicorn with one worker model, run the suite, stop it."""
    redis_url = env["REDIS_URL"]
    benchdb.flush_redis(redis_url)
    port = gunicorn_server.free_port()
    log = RESULTS / "gunicorn.log"
    server = gunicorn_server.start(settings, env, port, SERVER_CORE, log)
    proxy, proxy_port = None, None
    if nginx_server.NGINX and not args.no_nginx:
        proxy_port = gunicorn_server.free_port()
        proxy = nginx_server.start(
            RESULTS / "nginx", port, proxy_port, ROOT, core=SERVER_CORE
        )
    try:
        results = Suite(args, env, server, port, proxy_port).run()
    finally:
        if proxy:
            nginx_server.stop(proxy)
        gunicorn_server.stop(server)
        queued = benchdb.queued_tasks(redis_url)
        benchdb.flush_redis(redis_url)
    ratios = report.ratios(results)
    return {
        "gunicorn": str(settings),
        "results": results,
        "ratios": ratios,
        "targets": report.targets(results, ratios),
        "celery_messages_queued": queued,
    }


def show(outcome: dict) -> None:
    """Print one worker model's table, ratios and targets."""
    print(f"\ngunicorn {outcome['gunicorn']}")
    print(report.table(outcome["results"], outcome["ratios"]))
    print(report.ratio_lines(outcome["ratios"]))
    print(report.target_lines(outcome["targets"]))
    print(f"  Celery messages left queued: {outcome['celery_messages_queued']}")


def main() -> None:
    """Prepare the database, run each worker model, print and save results."""
    args = parse_args()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gunicorn.log").write_text("")
    env = app_env(args)
    benchdb.recreate_database(f"{args.pg}/postgres", args.db_name)
    benchdb.migrate_and_seed(env)
    meta = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": benchdb.git_commit(),
        "load_average_at_start": os.getloadavg(),
        "wrk": f"-t{args.wrk_threads} -c{args.connections}, taskset -c {LOAD_CORE}",
        "gunicorn_core": SERVER_CORE,
        "seconds": {
            "sign": args.duration,
            "other": args.other_duration,
            "warmup": args.warmup,
        },
    }
    print(f"load average at start: {meta['load_average_at_start']}")
    outcomes = []
    for settings in args.sweep or [args.gunicorn]:
        outcomes.append(run_model(args, env, settings))
        show(outcomes[-1])
    meta["load_average_at_end"] = os.getloadavg()
    meta["signatures"] = benchdb.count_signatures(f"{args.pg}/{args.db_name}")
    name = "sweep.json" if args.sweep else "latest.json"
    body = {"runs": outcomes} if args.sweep else outcomes[0]
    (RESULTS / name).write_text(json.dumps({"meta": meta, **body}, indent=2) + "\n")
    print(f"\nwrk {meta['wrk']}; gunicorn on core {SERVER_CORE}; wrote {name}")


if __name__ == "__main__":
    main()
