"""A local stand-in for the Stripe API endpoints the site calls.

A threaded HTTP server on a free port: the real ``stripe`` library talks to it
through ``STRIPE_API_BASE``. It records every request (path, form fields,
headers, Idempotency-Key) and answers like Stripe, replaying the first answer
for a repeated idempotency key. ``GET /pay/<id>`` is the "Checkout page" a
browser lands on.
"""

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


@dataclass
class Call:
    """One request the stand-in received."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        """The Idempotency-Key header, if sent."""
        return self.headers.get("idempotency-key")


@dataclass
class StripeStandIn:
    """The server's state: what it received, and how it should answer."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    # Set to an HTTP status to make every API call fail with it.
    fail_with: int | None = None
    answers: dict[str, tuple[int, dict]] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def api_calls(self, path: str) -> list[Call]:
        """The calls made to one API path."""
        return [c for c in self.calls if c.path == path]

    def answer(self, call: Call) -> tuple[int, dict]:
        """Stripe's answer to one call."""
        if self.fail_with:
            error = {"type": "api_error", "message": "The stand-in is failing."}
            return self.fail_with, {"error": error}
        key = call.idempotency_key
        if key and key in self.answers:
            return self.answers[key]
        number = next(self.ids)
        if call.path == "/v1/checkout/sessions":
            session_id = f"cs_test_{number}"
            body = {
                "id": session_id,
                "object": "checkout.session",
                "mode": call.params.get("mode"),
                "url": f"{self.url}/pay/{session_id}",
                "metadata": {},
            }
        elif call.path == "/v1/billing_portal/sessions":
            body = {
                "id": f"bps_test_{number}",
                "object": "billing_portal.session",
                "customer": call.params.get("customer"),
                "url": f"{self.url}/portal/{call.params.get('customer')}",
            }
        else:
            error = {"type": "invalid_request_error", "message": "Unknown path."}
            return 404, {"error": error}
        if key:
            self.answers[key] = (200, body)
        return 200, body


def make_handler(state: StripeStandIn):
    """A request handler class bound to one stand-in's state."""

    class Handler(BaseHTTPRequestHandler):
        """Answers Stripe API calls and serves the pretend Checkout page."""

        def log_message(self, format, *args):  # noqa: A002 - http.server API
            """Stay quiet."""

        def do_POST(self):  # noqa: N802 - http.server API
            """An API call: record it, answer with JSON."""
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            call = Call(
                "POST",
                self.path,
                dict(parse_qsl(body, keep_blank_values=True)),
                {k.lower(): v for k, v in self.headers.items()},
            )
            state.calls.append(call)
            status, payload = state.answer(call)
            self._send(status, json.dumps(payload).encode(), "application/json")

        def do_GET(self):  # noqa: N802 - http.server API
            """The page a donor would pay on."""
            page = (
                "<!doctype html><title>Stripe Checkout stand-in</title>"
                f"<h1>Stripe Checkout stand-in</h1><p>{self.path}</p>"
            )
            self._send(200, page.encode(), "text/html; charset=utf-8")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            """Write one response."""
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class running:  # noqa: N801 - used as a context manager, like open()
    """Run a stand-in server for the duration of a ``with`` block."""

    def __enter__(self) -> StripeStandIn:
        """Start serving on a free local port."""
        self.state = StripeStandIn()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.state.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self.state

    def __exit__(self, *exc) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
