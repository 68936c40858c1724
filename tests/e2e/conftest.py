"""Fixtures for browser tests: the app served from a thread, and system Chromium."""

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


@dataclass
class LiveServer:
    """The app being served, and the address the browser reaches it on."""

    app: Flask
    url: str

    def owns(self, url: str) -> bool:
        """Whether a URL points at this server."""
        return url == self.url or url.startswith(self.url + "/")


def not_ready(environ, start_response):
    """Answer requests that arrive before the app is in place."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"not ready"]


@pytest.fixture
def database_url(tmp_path) -> str:
    """Browser tests run on SQLite only: the browser adds nothing per database."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def live_config() -> dict:
    """Extra settings for the served app; a test module may override this."""
    return {}


@pytest.fixture
def live_server(app_factory, live_config):
    """The app on a real local port, with emailed links pointing at that port."""
    # Bind first so the app can be built with its final BASE_URL.
    server = make_server("127.0.0.1", 0, not_ready, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    server.app = app_factory(BASE_URL=url, **live_config)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app=server.app, url=url)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium headless; Playwright cannot download browsers."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Every page is a phone: small viewport, touch, mobile layout."""
    return {
        **browser_context_args,
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
    }


@dataclass
class BrowserLog:
    """What the browser asked the network for, and what went wrong in its pages."""

    requests: list[str]
    errors: list[str]


@pytest.fixture
def browser_log(page) -> BrowserLog:
    """Record requests, console errors and uncaught exceptions in every tab."""
    log = BrowserLog(requests=[], errors=[])

    def on_console(message) -> None:
        """Keep console messages of type error (CSP violations land here)."""
        if message.type == "error":
            log.errors.append(message.text)

    page.context.on("request", lambda request: log.requests.append(request.url))
    page.context.on("console", on_console)
    page.context.on("weberror", lambda error: log.errors.append(str(error.error)))
    return log
