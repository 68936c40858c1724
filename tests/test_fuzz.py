"""No request, however strange, gets a 5xx: every route in ``app.url_map``.

Hypothesis builds requests from the live URL map (so routes added later are
covered without touching this file): random methods, path segments (NUL,
control characters, very long, any Unicode), query strings, form and
multipart bodies (file parts too), raw bodies and headers; anonymous, and
signed in as an admin with CSRF off so bodies reach the views. The app runs
with ``TESTING``, so an unhandled exception fails the example with its
traceback, and a 5xx page does too.

Each test builds its app once and runs ``@given`` functions defined inside
it, so Hypothesis never sees the function-scoped fixtures (nor warns about
them being shared between examples, which here is the point: one database).
"""

import io
import json
import os
import re
from collections import Counter
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign.extensions import db
from campaign.organiser.models import Organiser
from campaign.organiser.services import create_organiser
from campaign.permissions import Role
from tests.donate_helpers import stripe_config
from tests.helpers import SLUG
from tests.test_donate import standin  # noqa: F401 - the Stripe stand-in fixture
from tests.test_organiser import PASSWORD

EMAIL = "fuzz@example.org"
# Examples per route and test run; four runs (two databases, signed in or
# not). FUZZ_EXAMPLES=50 (say) searches harder, by hand.
EXAMPLES_PER_ROUTE = int(os.environ.get("FUZZ_EXAMPLES", "4"))
ARGUMENT = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
METHODS = ["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"]
# Field names the site's forms read, so fuzzed values reach their validators.
FIELDS = [
    *("name", "email", "country", "comment", "public", "join_list", "source"),
    *("password", "current", "new", "repeat", "role", "choice", "confirm"),
    *("title", "target", "body_markdown", "goal", "state", "subject", "audience"),
    *("send_at", "kind", "email_domain", "since", "until", "ip_key", "opted_in"),
    *("amount", "custom_amount", "frequency", "attempt", "lang", "next"),
]
HEADERS = [
    *("Accept", "Accept-Language", "User-Agent", "Referer", "X-Forwarded-For"),
    *("Origin", "Stripe-Signature", "If-None-Match", "Range", "Cookie"),
]

# Text that has broken or could break something: controls, bidi, long, wide.
nasty = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\x1b[31m",
        "\x7f",
        "\u202e\u2066",
        "\ufeff",
        "x" * 5000,
        "9" * 400,
        "-1",
        "0",
        "2147483648",
        "1e18",
        "NaN",
        "..%2f..%2fetc%2fpasswd",
        "../../etc/passwd",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "%",
        "%zz",
        "\U0001f469\u200d\U0001f467",
        "شاه\u200cمحمد",
        "=cmd|' /C calc'!A0",
        "2026-13-45",
        "2026-02-30T25:61",
        "subscribers",
        f"petition:{SLUG}",
        "petition:nope",
        SLUG,
        "admin",
        "hard",
        "on",
        # Values that pass validation, so the rest of a body gets further.
        "ada@example.org",
        "Ada Lovelace",
        "GB",
        "AF",
        "25",
        "one_off",
        "monthly",
        "other",
        "12.50",
        "2026-01-01",
        "2030-01-01T10:00",
        "gmail.com",
        "a" * 64,
        PASSWORD,
    ]
)
text = st.one_of(
    nasty, st.text(max_size=40), st.text(st.characters(codec="utf-8"), max_size=300)
)
header_text = st.text(
    st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=200
)


def segment(kind: str | None, options: str | None):
    """Values for one URL argument, shaped by its converter."""
    if kind == "int":
        numbers = st.integers(min_value=0, max_value=2**80).map(str)
        return st.one_of(st.sampled_from(["1", "2", "0"]), numbers)
    if kind == "any":
        return st.sampled_from([o.strip() for o in options.split(",")])
    known = st.sampled_from([SLUG, "hide-name", "invalidate", "css/site.css"])
    return st.one_of(known, text.filter(bool))


@st.composite
def requests(draw, rule):
    """One request: the rule's path filled in, a method, a query, a body, headers."""
    path = rule.rule
    for match in ARGUMENT.finditer(rule.rule):
        value = draw(segment(match.group(1), match.group(2)))
        path = path.replace(match.group(0), quote(value, safe=""), 1)
    allowed = sorted(rule.methods)
    method = draw(st.one_of(st.sampled_from(allowed), st.sampled_from(METHODS)))
    query = draw(st.lists(st.tuples(text, text), max_size=3))
    if query:
        path += "?" + urlencode(query, quote_via=quote)
    kwargs = {"method": method, "headers": draw(headers())}
    kwargs.update(draw(bodies()))
    return path, kwargs


@st.composite
def headers(draw) -> dict:
    """A few headers from the ones the site or its libraries read."""
    chosen = draw(st.lists(st.sampled_from(HEADERS), max_size=3, unique=True))
    return {name: draw(header_text) for name in chosen}


@st.composite
def bodies(draw) -> dict:
    """No body, a form, a multipart form with file parts, JSON or raw bytes."""
    fields = draw(
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), text), text, max_size=6)
    )
    kind = draw(st.sampled_from(["none", "form", "multipart", "json", "raw"]))
    if kind == "form":
        return {"data": fields}
    if kind == "multipart":
        files = draw(st.lists(st.sampled_from(FIELDS), max_size=2))
        data = dict(fields)
        for name in files:
            content = draw(st.binary(max_size=100))
            data[name] = (io.BytesIO(content), draw(text) or "f.txt")
        return {"data": data, "content_type": "multipart/form-data"}
    if kind == "json":
        return {"data": json.dumps(fields), "content_type": "application/json"}
    if kind == "raw":
        content_type = draw(
            st.sampled_from(
                [
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                    "multipart/form-data; boundary=x",
                    "application/json",
                    "text/plain; charset=utf-16",
                    "",
                ]
            )
        )
        return {"data": draw(st.binary(max_size=500)), "content_type": content_type}
    return {}


def fuzz_app(app_factory, standin):  # noqa: F811
    """The site with CSRF off (bodies reach the views) and limits out of the way."""
    return app_factory(
        WTF_CSRF_ENABLED=False,
        LOGIN_RATE_LIMIT="100000 per minute",
        JOIN_RATE_LIMIT="100000 per minute",
        SIGN_RATE_LIMIT="100000 per minute",
        **stripe_config(standin),
    )


def signed_in(app, client) -> None:
    """Make sure ``client`` holds an admin's session (a fuzzed request may end it)."""
    if client.get("/organiser/petitions/-").status_code == 404:
        return  # signed in: the page is missing, not the session
    with app.app_context():
        organiser = db.session.scalar(sa.select(Organiser).filter_by(email=EMAIL))
        if organiser is None:
            create_organiser(EMAIL, PASSWORD, Role.ADMIN)
        else:  # a fuzzed request may have switched it off
            organiser.active = True
            db.session.commit()
    response = client.post(
        "/organiser/login", data={"email": EMAIL, "password": PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def check(client, path: str, kwargs: dict) -> int:
    """Send one request; fail on any 5xx."""
    response = client.open(path, **kwargs)
    response.close()  # unread, as a client that leaves; files get closed
    assert response.status_code < 500, (path, kwargs, response.status_code)
    return response.status_code


def summary(statuses: list[int]) -> str:
    """How many responses had each status, for the report."""
    return ", ".join(f"{n}x{code}" for code, n in sorted(Counter(statuses).items()))


# Values for every argument at once: NUL, a number past INTEGER, a real slug.
SWEEP = ["%00", "1", "2147483648", "99999999999999999999", SLUG]


@pytest.mark.parametrize("as_admin", [False, True], ids=["anonymous", "admin"])
def test_every_route_answers_known_bad_input_without_a_5xx(
    app_factory,
    standin,  # noqa: F811
    as_admin,
):
    app = fuzz_app(app_factory, standin)
    client = app.test_client()
    sent: list[int] = []
    # Every route and method at least once with each of these.
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods):
            for value in SWEEP:
                if as_admin:
                    signed_in(app, client)
                path = ARGUMENT.sub(value, rule.rule)
                nul = {"method": method, "data": {"name": "a\x00"}}
                sent += [
                    check(client, path, nul),
                    check(client, path, {"method": method}),
                ]
            photo = {field: (io.BytesIO(b"GIF89a"), "a.gif") for field in FIELDS}
            path = ARGUMENT.sub(SLUG, rule.rule)
            sent.append(check(client, path, {"method": method, "data": photo}))
    print(f"sweep: {len(sent)} requests, no 5xx: {summary(sent)}")


@pytest.mark.parametrize("as_admin", [False, True], ids=["anonymous", "admin"])
def test_fuzzed_requests_never_get_a_5xx(app_factory, standin, as_admin):  # noqa: F811
    # The app is built once here, outside Hypothesis: its examples share it
    # (a fresh database per example would take a second each).
    app = fuzz_app(app_factory, standin)
    client = app.test_client()
    sent: list[int] = []  # the status of each example

    def one_request(path: str, kwargs: dict) -> None:
        if as_admin:
            signed_in(app, client)
            kwargs["headers"].pop("Cookie", None)  # keep the session's cookie
        sent.append(check(client, path, kwargs))

    # Route by route, so each gets its share (one draw over all favours few).
    rules = list(app.url_map.iter_rules())
    for rule in rules:
        fuzz = settings(
            max_examples=EXAMPLES_PER_ROUTE,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )(given(requests(rule))(lambda request: one_request(*request)))
        fuzz()
    print(f"{len(sent)} examples over {len(rules)} routes, no 5xx: {summary(sent)}")
    assert len(sent) >= EXAMPLES_PER_ROUTE * len(rules)
