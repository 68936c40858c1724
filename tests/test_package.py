"""The package installs and serves: the README's production recipe, step by step.

Builds the sdist and wheel, installs the wheel into a fresh virtualenv outside
the checkout, and from a folder outside it too runs ``flask db upgrade``,
``flask campaign seed``, gunicorn, a Celery worker and beat, as the README's
deploy section does.
Slow (about a minute: the install fetches every dependency, from pip's cache
when it has them); ``pytest -m "not slow"`` leaves it out.
"""

import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from campaign import create_app
from tests.helpers import PG_URL, REDIS_URL, free_port, needs_postgres, reset_database

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "tests" / "data" / "article.txt"
TITLE = "Russia Becomes First Major Country to Recognize Taliban Regime"
FOLDERS = ("templates", "static", "migrations")


def run(command: list[str], **kwargs) -> str:
    """Run a command; fail with its output if it fails."""
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, **kwargs
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The sdist and the wheel built from it, as ``python -m build`` makes them."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)])
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh virtualenv, outside the checkout, with only the wheel installed."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)])
    (wheel,) = dist.glob("campaign-*.whl")
    run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)])
    return venv


def checkout_files(name: str) -> set[str]:
    """Every file the checkout holds under a top-level folder (no bytecode)."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / name).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_every_folder_and_compiled_catalogue(dist):
    (wheel,) = dist.glob("campaign-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    for folder in FOLDERS:
        carried = {
            name.removeprefix("campaign/resources/")
            for name in names
            if name.startswith(f"campaign/resources/{folder}/")
        }
        assert carried == checkout_files(folder)
    assert "campaign/content/story.md" in names
    assert "campaign/content/petition.md" in names
    catalogues = (ROOT / "campaign" / "translations").glob("*/LC_MESSAGES/*.po")
    for po in catalogues:
        mo = po.relative_to(ROOT).with_suffix(".mo").as_posix()
        assert mo in names
    assert not [name for name in names if name.endswith(".pyc")]


def environment(venv: Path, database_url: str) -> dict[str, str]:
    """The production configuration, with nothing pointing into the checkout."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "FLASK_", "VIRTUAL_ENV", "CAMPAIGN_"))
        and key
        not in {
            "DATABASE_URL",
            "SECRET_KEY",
            "ENCRYPTION_KEYS",
            "HASH_KEY",
            "CLIENT_KEY_SECRET",
            "REDIS_URL",
            "TEST_DATABASE_URL",
        }
    }
    env = {
        **inherited,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "CAMPAIGN_ENV": "production",
        "SECRET_KEY": "a-long-random-secret-for-the-packaging-test-only",
        "ENCRYPTION_KEYS": "cGFja2FnaW5nLXRlc3Qtb25seS1rZXktMzItYnl0ZXM=",
        "HASH_KEY": "a-hash-key-for-the-packaging-test-only",
        "CLIENT_KEY_SECRET": "a-client-key-secret-for-the-packaging-test-only",
        "DATABASE_URL": database_url,
        "BASE_URL": "http://127.0.0.1",
        "FLASK_APP": "campaign.wsgi",
    }
    if REDIS_URL:
        env["REDIS_URL"] = REDIS_URL
    return env


def start(command: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """Start a long-running command with its output in ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, text=True, **kwargs
        )


def wait_for_line(log: Path, words: str, process: subprocess.Popen, timeout=60.0):
    """Wait until ``process`` has written ``words`` to its log."""
    deadline = time.monotonic() + timeout
    while words not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def stop(process: subprocess.Popen, log: Path) -> str:
    """Stop a command as a supervisor would (SIGTERM); return its log."""
    process.terminate()
    process.wait(timeout=30)
    return log.read_text()


def wait_for_page(url: str, server: subprocess.Popen, timeout: float = 60.0):
    """The response to GET ``url`` once the server answers."""
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, "gunicorn exited"
        try:
            return urllib.request.urlopen(url, timeout=5)  # noqa: S310 - local
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def database_url(request, tmp_path):
    """A SQLite file in the site's folder, or an emptied TEST_DATABASE_URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'site' / 'campaign.db'}"
        return
    app = create_app({"SQLALCHEMY_DATABASE_URI": PG_URL})
    with app.app_context():
        reset_database()
    yield PG_URL
    with app.app_context():
        reset_database()
        from campaign.extensions import db

        db.engine.dispose()


def test_installed_outside_the_checkout_it_migrates_seeds_and_serves(
    venv, database_url, tmp_path
):
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    env = environment(venv, database_url)
    bin_ = venv / "bin"

    where = run(
        [str(bin_ / "python"), "-c", "import campaign; print(campaign.__file__)"],
        cwd=site,
        env=env,
    )
    assert Path(where.strip()).is_relative_to(venv)

    run([str(bin_ / "flask"), "db", "upgrade"], cwd=site, env=env)
    run([str(bin_ / "flask"), "campaign", "seed"], cwd=site, env=env)
    port = free_port()
    gunicorn = [
        str(bin_ / "gunicorn"),
        *("--worker-class", "gthread", "--workers", "2", "--threads", "4"),
        *("--bind", f"127.0.0.1:{port}", "campaign.wsgi:app"),
    ]
    celery = [str(bin_ / "celery"), "--app=campaign.wsgi:celery"]
    logs = {name: site / f"{name}.log" for name in ("gunicorn", "worker", "beat")}
    server = start(gunicorn, logs["gunicorn"], cwd=site, env=env)
    worker = start(
        [*celery, "worker", "--loglevel=info"], logs["worker"], cwd=site, env=env
    )
    beat = start([*celery, "beat", "--loglevel=info"], logs["beat"], cwd=site, env=env)
    try:
        page = wait_for_page(f"http://127.0.0.1:{port}/", server)
        html = page.read().decode()
        stylesheet = urllib.request.urlopen(  # noqa: S310 - local
            f"http://127.0.0.1:{port}/static/css/site.css", timeout=5
        )
        wait_for_line(logs["worker"], " ready.", worker)
        wait_for_line(logs["beat"], "beat: Starting...", beat)
    finally:
        output = {
            name: stop(process, logs[name])
            for name, process in (
                ("gunicorn", server),
                ("worker", worker),
                ("beat", beat),
            )
        }

    assert page.status == 200
    assert TITLE in html
    first_paragraph = ARTICLE.read_text(encoding="utf-8").split("\n\n")[2]
    assert first_paragraph.split(".")[0] in html
    assert stylesheet.status == 200
    for name, text in output.items():
        assert "Traceback" not in text, f"{name}:\n{text}"
        assert "ERROR" not in text, f"{name}:\n{text}"
