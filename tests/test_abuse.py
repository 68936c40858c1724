"""Past the signing or joining limit: a proof-of-work challenge, solved once
per request; no solution and the limit holds; suspects kept as fraudulent."""

import base64
import html
import json
import re

import altcha
import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisDown

from campaign import abuse
from campaign.extensions import limiter
from campaign.permissions import Role
from campaign.petition.models import SignatureState
from campaign.petition.services import get_petition, recount
from tests.helpers import (
    REDIS_URL,
    SLUG,
    count,
    csrf_token,
    needs_redis,
    sign,
    wait_for,
)
from tests.test_care import signed_in
from tests.test_mailing import join, subscriber
from tests.test_moderation import signature_id
from tests.test_petition import path_of, signatures

CHALLENGE = re.compile(r'<altcha-widget challenge="([^"]+)"')


@pytest.fixture
def limited(app_factory):
    """An app allowing one signature a minute per address, quick challenges."""
    return app_factory(SIGN_RATE_LIMIT="1 per minute", ALTCHA_MAX_NUMBER=500)


def challenge_of(response) -> altcha.Challenge:
    """The challenge a refused form carries for the widget."""
    [attribute] = CHALLENGE.findall(response.get_data(as_text=True))
    return altcha.Challenge.from_dict(json.loads(html.unescape(attribute)))


def solved(response) -> str:
    """The widget's payload for the page's challenge, solved as a browser would."""
    challenge = challenge_of(response)
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def over_the_limit(client):
    """Use up the address's one signature; return the challenge page after it."""
    assert sign(client, email="first@example.org").status_code == 303
    refused = sign(client, email="second@example.org")
    assert refused.status_code == 429
    return refused


def states(app) -> dict[str, SignatureState]:
    """Each stored signature's state, by email."""
    return {s.email: s.state for s in signatures(app)}


def test_over_the_limit_the_form_comes_back_with_a_challenge(limited):
    page = over_the_limit(limited.test_client()).get_data(as_text=True)
    assert "from your connection" in page
    assert "/static/vendor/altcha/altcha.min.js" in page
    assert "/static/js/altcha-setup.js" in page
    assert 'value="second@example.org"' in page  # what was typed is kept
    assert "try again in an hour" in page  # for a browser without JavaScript
    assert "second@example.org" not in states(limited)


def test_a_solved_challenge_lets_the_signature_through(limited, inbox):
    client = limited.test_client()
    payload = solved(over_the_limit(client))
    response = sign(client, email="second@example.org", altcha=payload)
    assert response.status_code == 303
    assert states(limited)["second@example.org"] is SignatureState.PENDING
    client.get(path_of(inbox.link(inbox.to("second@example.org")[0])))
    assert count(client) == 1


def test_a_solution_works_once(limited):
    client = limited.test_client()
    payload = solved(over_the_limit(client))
    assert sign(client, email="second@example.org", altcha=payload).status_code == 303
    replayed = sign(client, email="third@example.org", altcha=payload)
    assert replayed.status_code == 429
    assert CHALLENGE.search(replayed.get_data(as_text=True))  # a fresh one
    assert "third@example.org" not in states(limited)


def test_without_a_solution_the_limit_holds(limited):
    client = limited.test_client()
    over_the_limit(client)
    for number in range(3):
        assert sign(client, email=f"n{number}@example.org").status_code == 429
    assert list(states(limited)) == ["first@example.org"]


def test_an_expired_solution_gets_a_new_challenge(limited, monkeypatch):
    client = limited.test_client()
    over_the_limit(client)
    monkeypatch.setattr(abuse, "CHALLENGE_SECONDS", -60)
    with limited.app_context():
        expired = altcha.Challenge.from_dict(abuse.new_challenge())
    late = altcha.Payload(expired, altcha.solve_challenge(expired)).to_base64()
    refused = sign(client, email="late@example.org", altcha=late)
    assert refused.status_code == 429
    assert CHALLENGE.search(refused.get_data(as_text=True))  # a fresh one
    assert "late@example.org" not in states(limited)


def forged(payload: str) -> str:
    """A payload whose challenge was made easier after the server signed it."""
    data = json.loads(base64.b64decode(payload))
    data["challenge"]["parameters"]["keyPrefix"] = "0"
    return base64.b64encode(json.dumps(data).encode()).decode()


def test_a_forged_solution_is_kept_as_fraudulent_and_answered_alike(limited, inbox):
    client = limited.test_client()
    payload = solved(over_the_limit(client))
    response = sign(client, email="bot@example.org", altcha=forged(payload))
    assert response.status_code == 303  # the same answer as a real signature
    assert response.headers["Location"].endswith(f"/petitions/{SLUG}/check-email")
    assert states(limited)["bot@example.org"] is SignatureState.FRAUDULENT
    assert inbox.to("bot@example.org") == []  # no email for it


def test_past_the_hard_limit_even_solved_signatures_are_fraudulent(app_factory, inbox):
    app = app_factory(
        SIGN_RATE_LIMIT="1 per minute",
        SIGN_HARD_RATE_LIMIT="2 per minute",
        ALTCHA_MAX_NUMBER=500,
    )
    client = app.test_client()
    payload = solved(over_the_limit(client))  # the second request: at the hard limit
    response = sign(client, email="third@example.org", altcha=payload)
    assert response.status_code == 303
    assert states(app)["third@example.org"] is SignatureState.FRAUDULENT
    assert inbox.to("third@example.org") == []
    assert count(client) == 0


def test_suspects_are_refused_when_not_kept(app_factory):
    app = app_factory(
        SIGN_RATE_LIMIT="1 per minute",
        ALTCHA_MAX_NUMBER=500,
        KEEP_OVER_LIMIT_AS_FRAUDULENT=False,
    )
    client = app.test_client()
    payload = solved(over_the_limit(client))
    refused = sign(client, email="bot@example.org", altcha=forged(payload))
    assert refused.status_code == 429
    assert "try again in an hour" in refused.get_data(as_text=True)
    assert "bot@example.org" not in states(app)


def on_redis(app_factory, **config):
    """An app signing at 1 a minute whose limits live in Redis, emptied."""
    app = app_factory(
        SIGN_RATE_LIMIT="1 per minute", RATELIMIT_STORAGE_URI=REDIS_URL, **config
    )
    with app.app_context():
        limiter.reset()
    return app


@needs_redis
def test_used_solutions_are_shared_through_redis(app_factory):
    app = on_redis(app_factory, ALTCHA_MAX_NUMBER=500)
    first, second = app.test_client(), app.test_client()
    payload = solved(over_the_limit(first))
    assert sign(first, email="second@example.org", altcha=payload).status_code == 303
    assert sign(second, email="third@example.org", altcha=payload).status_code == 429


@pytest.fixture
def proxied(app_factory):
    """Signing limited as ``limited`` is, behind one proxy (nginx), so each
    request names its client in X-Forwarded-For."""
    return app_factory(
        SIGN_RATE_LIMIT="1 per minute",
        SIGN_HARD_RATE_LIMIT="2 per minute",
        ALTCHA_MAX_NUMBER=500,
        PROXY_FIX_X_FOR=1,
    )


def sign_from(app, address: str, email: str, **fields):
    """Sign from a client address, in a browser of its own."""
    headers = {"X-Forwarded-For": address}
    return sign(app.test_client(), email=email, headers=headers, **fields)


def test_an_ipv6_client_is_limited_across_its_whole_64(proxied):
    assert sign_from(proxied, "2001:db8:1:2::1", "one@example.org").status_code == 303
    # Another address in the same /64: the same client, past the limit.
    refused = sign_from(proxied, "2001:db8:1:2:ffff::9", "two@example.org")
    assert refused.status_code == 429
    assert CHALLENGE.search(refused.get_data(as_text=True))
    # Another /64, or an IPv4 client: someone else.
    assert sign_from(proxied, "2001:db8:1:3::1", "three@example.org").status_code == 303
    assert sign_from(proxied, "203.0.113.7", "four@example.org").status_code == 303
    assert "two@example.org" not in states(proxied)


def test_a_new_address_in_the_same_64_does_not_escape_the_hard_limit(proxied, inbox):
    assert sign_from(proxied, "2001:db8:1:2::1", "one@example.org").status_code == 303
    payload = solved(sign_from(proxied, "2001:db8:1:2::2", "two@example.org"))
    third = "2001:db8:1:2::3"
    response = sign_from(proxied, third, "three@example.org", altcha=payload)
    assert response.status_code == 303  # answered like any signature
    assert states(proxied)["three@example.org"] is SignatureState.FRAUDULENT
    assert inbox.to("three@example.org") == []


def test_joining_is_limited_across_an_ipv6_clients_64(app_factory):
    app = app_factory(JOIN_RATE_LIMIT="1 per minute", PROXY_FIX_X_FOR=1)

    def join_from(address: str, email: str):
        headers = {"X-Forwarded-For": address}
        return join(app.test_client(), email=email, headers=headers)

    assert join_from("2001:db8:1:2::1", "one@example.org").status_code == 303
    assert join_from("2001:db8:1:2::2", "two@example.org").status_code == 429
    assert join_from("2001:db8:1:3::1", "three@example.org").status_code == 303


@needs_redis
def test_the_limiters_storage_never_holds_a_client_address(app_factory):
    app = on_redis(app_factory, PROXY_FIX_X_FOR=1)
    addresses = ["2001:db8:1:2::1", "2001:db8:1:2::2", "203.0.113.7"]
    for number, address in enumerate(addresses):
        sign_from(app, address, f"n{number}@example.org")
    stored = [key.decode() for key in Redis.from_url(REDIS_URL).keys("*")]
    assert any("sign" in key for key in stored)  # the counts are there
    assert not [key for key in stored if "2001:db8" in key or "203.0.113" in key]


def test_with_redis_down_limits_and_used_solutions_hold_in_memory(limited, monkeypatch):
    def down(*args, **kwargs):
        raise RedisDown("Redis is down")

    with limited.app_context():
        monkeypatch.setattr(limiter.storage, "incr", down)
    client = limited.test_client()
    payload = solved(over_the_limit(client))
    assert sign(client, email="second@example.org", altcha=payload).status_code == 303
    assert sign(client, email="third@example.org", altcha=payload).status_code == 429


@pytest.fixture
def joining(app_factory):
    """An app allowing one sign-up a minute per address, quick challenges."""
    return app_factory(JOIN_RATE_LIMIT="1 per minute", ALTCHA_MAX_NUMBER=500)


def test_joining_past_the_limit_takes_a_solved_challenge(joining, inbox):
    client = joining.test_client()
    assert join(client, email="one@example.org").status_code == 303
    refused = join(client, email="two@example.org")
    assert refused.status_code == 429
    assert "from your connection" in refused.get_data(as_text=True)
    assert subscriber(joining, "two@example.org") is None
    payload = solved(refused)
    assert join(client, email="two@example.org", altcha=payload).status_code == 303
    assert subscriber(joining, "two@example.org") is not None
    # Once only; and with no solution the limit holds.
    assert join(client, email="three@example.org", altcha=payload).status_code == 429
    assert join(client, email="four@example.org").status_code == 429
    assert subscriber(joining, "three@example.org") is None
    assert subscriber(joining, "four@example.org") is None


def test_a_forged_sign_up_is_refused(joining):
    client = joining.test_client()
    join(client, email="one@example.org")
    payload = solved(join(client, email="two@example.org"))
    refused = join(client, email="bot@example.org", altcha=forged(payload))
    assert refused.status_code == 429
    assert "try again in an hour" in refused.get_data(as_text=True)
    assert not CHALLENGE.search(refused.get_data(as_text=True))
    assert subscriber(joining, "bot@example.org") is None


def test_a_fraudulent_signature_is_not_counted_and_organisers_can_restore_it(
    limited, inbox
):
    client = limited.test_client()
    payload = solved(over_the_limit(client))
    sign(client, name="Kept Aside", email="kept@example.org", altcha=forged(payload))
    with limited.app_context():
        assert recount(get_petition(SLUG)) == 0
    staff = signed_in(limited, "staff@example.org", Role.STAFF)
    page = staff.get(f"/organiser/petitions/{SLUG}").get_data(as_text=True)
    assert "Kept Aside" in page and "Removed as abuse" in page
    removed = staff.get(f"/organiser/petitions/{SLUG}/moderate?list=removed")
    assert "Kept Aside" in removed.get_data(as_text=True)
    kept = signature_id(limited, "kept@example.org")
    action = f"/organiser/signatures/{kept}/restore"
    token = csrf_token(staff, f"/organiser/petitions/{SLUG}")
    assert staff.post(action, data={"csrf_token": token}).status_code == 302
    # Restored: pending, and its confirmation link goes out at last.
    assert states(limited)["kept@example.org"] is SignatureState.PENDING
    link = inbox.link(wait_for(lambda: inbox.to("kept@example.org"))[0])
    client.get(path_of(link))
    assert count(client) == 1


def test_challenges_are_signed_with_their_own_key(app_factory):
    derived = app_factory()
    own = app_factory(ALTCHA_HMAC_KEY="an-operator-chosen-key")
    with derived.app_context():
        key = abuse.hmac_key()
        assert key != derived.config["CLIENT_KEY_SECRET"]
        challenge = altcha.Challenge.from_dict(abuse.new_challenge())
    payload = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    assert altcha.verify_solution(payload, key).verified
    with own.app_context():
        assert abuse.hmac_key() == "an-operator-chosen-key"
        assert abuse.check_solution(payload) is abuse.Outcome.FORGED
