"""Stripe's webhook refuses signed bodies it cannot read safely, storing nothing."""

import json
import time

import pytest

from tests.donate_helpers import (
    checkout_session,
    deliver,
    event,
    give,
    rows,
    stored_nothing,
    stripe_config,
)
from tests.test_donate import standin  # noqa: F401 - the Stripe stand-in fixture


@pytest.fixture
def app(app_factory, standin):  # noqa: F811
    """The site with Stripe keys, talking to the stand-in."""
    return app_factory(**stripe_config(standin))


def paid(**overrides) -> dict:
    """A signed-looking checkout.session.completed event, with changes."""
    found = event("checkout.session.completed", checkout_session())
    found.update(overrides)
    return found


def nested(depth: int) -> str:
    """An event whose metadata nests ``depth`` levels further down."""
    body = json.dumps(paid())
    inner = '{"a":' * depth + "1" + "}" * depth
    return body.replace('"source": "banner"', f'"source": {inner}')


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[1, 2]", id="array"),
        pytest.param(json.dumps([paid()]), id="array of events"),
        pytest.param('"checkout.session.completed"', id="string"),
        pytest.param("[" * 5000 + "]" * 5000, id="5000 deep array"),
        pytest.param(nested(5000), id="5000 deep object"),
        pytest.param(nested(100), id="100 deep"),
        pytest.param(json.dumps(paid(created=1e18)), id="created 1e18"),
        pytest.param(json.dumps(paid(created=10**18)), id="created 10**18"),
        pytest.param(json.dumps(paid(created="yesterday")), id="created text"),
        pytest.param(json.dumps(paid(created=True)), id="created true"),
        pytest.param(
            json.dumps(paid()).replace('"created": ', '"created": NaN, "x": '), id="NaN"
        ),
        pytest.param(json.dumps(paid(id=["evt_1"])), id="id a list"),
        pytest.param(json.dumps(paid(type="x" * 101)), id="type too long"),
        pytest.param(
            json.dumps(paid(data={"object": checkout_session(amount_total="25")})),
            id="amount text",
        ),
        pytest.param(
            json.dumps(paid(data={"object": checkout_session(metadata=[1])})),
            id="metadata a list",
        ),
        pytest.param(
            json.dumps(paid(data={"object": checkout_session(currency="dollars")})),
            id="currency too long",
        ),
        pytest.param(
            '{"id": "evt_1", "type": "checkout.session.completed", "created": 1'
            + "0" * 5000
            + ', "data": {"object": {}}}',
            id="5000-digit number",
        ),
    ],
)
def test_an_unreadable_signed_body_is_refused_and_stores_nothing(
    app, client, inbox, body
):
    response = deliver(client, body)
    assert response.status_code == 400
    assert "error" in response.get_json()
    assert stored_nothing(app)
    assert inbox.messages == []


def test_a_normally_nested_event_is_still_applied(app, client):
    assert deliver(client, nested(20)).get_json() == {"received": "applied"}
    assert len(rows(app)) == 1


@pytest.mark.parametrize("offset", [-86_400, -301, 301, 86_400])
def test_a_signature_outside_the_tolerance_either_way_is_refused(app, client, offset):
    body = json.dumps(paid())
    response = deliver(client, body, timestamp=int(time.time()) + offset)
    assert response.status_code == 400
    assert stored_nothing(app)


@pytest.mark.parametrize("offset", [-200, 200])
def test_a_signature_within_the_tolerance_is_accepted(app, client, offset):
    body = json.dumps(paid())
    response = deliver(client, body, timestamp=int(time.time()) + offset)
    assert response.get_json() == {"received": "applied"}


def test_a_donor_name_from_stripe_is_stored_without_bidi_overrides(app, client):
    session = checkout_session(
        customer_details={"email": "d@example.org", "name": "\u202eAda\u200b"}
    )
    deliver(client, event("checkout.session.completed", session))
    [donation] = rows(app)
    assert donation.name == "Ada"


def test_the_donate_form_sends_stripe_a_name_without_invisible_characters(
    client,
    standin,  # noqa: F811
):
    give(client, name="\u2067Ada Lovelace\u2069", email="ada@example.org")
    [call] = standin.api_calls("/v1/checkout/sessions")
    assert call.params["metadata[donor_name]"] == "Ada Lovelace"
