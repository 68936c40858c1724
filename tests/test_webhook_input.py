"""Stripe's webhook refuses signed bodies it cannot read safely, storing nothing."""

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.donate.webhooks import HANDLERS
from tests.donate_helpers import (
    charge,
    checkout_session,
    deliver,
    event,
    give,
    invoice,
    rows,
    stored_nothing,
    stripe_config,
    subscription,
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
        pytest.param(json.dumps(paid(data=[1])), id="data a list"),
        pytest.param(json.dumps(paid(data={"object": [1]})), id="object a list"),
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


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KINDS = [*HANDLERS, "customer.created"]
SHAPES = [checkout_session(), invoice(), charge("pi_test_1"), subscription()]


@st.composite
def signed_events(draw) -> str:
    """A Stripe-shaped event with some fields, anywhere, replaced by any JSON."""
    obj = dict(draw(st.sampled_from(SHAPES)))
    for key in draw(st.lists(st.sampled_from(sorted(obj)), max_size=3)):
        obj[key] = draw(JSON)
    found = event(draw(st.sampled_from(KINDS)), obj)
    for key in draw(st.lists(st.sampled_from(["id", "type", "created", "data"]))):
        found[key] = draw(JSON)
    return json.dumps(found)


def test_a_signed_event_that_contradicts_stored_gifts_is_refused(app, client):
    """One Checkout Session id on two gifts: no race, so looking again cannot
    help; the event is refused (and Stripe's copy stays for a person to see)."""
    for number in (1, 2):
        assert deliver(
            client, paid(data={"object": checkout_session(number)})
        ).get_json()
    before = [(d.id, d.checkout_session_id, d.payment_intent_id) for d in rows(app)]
    crossed = checkout_session(2, payment_intent="pi_test_1")
    response = deliver(client, paid(data={"object": crossed}))
    assert response.status_code == 400
    assert "error" in response.get_json()
    after = [(d.id, d.checkout_session_id, d.payment_intent_id) for d in rows(app)]
    assert after == before


def test_signed_events_with_any_field_changed_never_get_a_5xx(app, client):
    # Built once, outside Hypothesis (see test_fuzz.py): examples share the app.
    statuses = []

    @settings(max_examples=150, deadline=None, database=None)
    @given(signed_events())
    def one_delivery(body):
        response = deliver(client, body)
        assert response.status_code in (200, 400), response.get_data(as_text=True)
        statuses.append(response.status_code)

    one_delivery()
    assert 200 in statuses and 400 in statuses
