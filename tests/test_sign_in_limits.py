"""Sign-in limits count failures only, per client address and per account, and
strangers' failures never lock an organiser out of a device they signed in
on before; new passwords must be long and not guessable."""

import pytest

from campaign.organiser import devices
from campaign.permissions import Role
from tests.helpers import csrf_token, submit
from tests.test_organiser import PASSWORD, add_organiser
from tests.test_sessions import signed_in

ORGANISER_HOME = "203.0.113.5"


def attempt(client, address, email="org@example.org", password=PASSWORD):
    """A sign-in attempt from a client address."""
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client, "/organiser/login")
    return client.post(
        "/organiser/login",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base=environ,
    )


@pytest.fixture
def limited(app_factory):
    """An app allowing three failed sign-ins a minute, and one organiser."""
    app = app_factory(LOGIN_RATE_LIMIT="3 per minute")
    add_organiser(app)
    return app


@pytest.fixture
def known_device(limited):
    """The organiser's own browser, which has signed in (and out) before."""
    client = limited.test_client()
    assert attempt(client, ORGANISER_HOME).status_code == 302
    token = csrf_token(client, "/organiser/")
    client.post("/organiser/logout", data={"csrf_token": token})
    return client


def attack(app, failures=6):
    """Wrong passwords for the account, each from another address."""
    for number in range(failures):
        stranger = app.test_client()
        response = attempt(stranger, f"198.51.100.{number}", password="a wrong guess")
        assert response.status_code in (400, 429)


def test_strangers_lock_a_fresh_device_out_of_the_account(limited):
    attack(limited)
    fresh = limited.test_client()
    refused = attempt(fresh, "192.0.2.7")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"  # the limit's window, at most


def test_strangers_never_lock_out_the_organisers_known_device(limited, known_device):
    attack(limited)
    for _ in range(5):  # more than the limit: successes are not counted
        assert attempt(known_device, ORGANISER_HOME).status_code == 302
    assert known_device.get("/organiser/").status_code == 200


def test_the_device_cookie_is_signed_httponly_and_names_the_account(limited):
    client = limited.test_client()
    response = attempt(client, ORGANISER_HOME)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("organiser_")
    )
    # Path=/: sign-in is also at /fa/organiser/ and /ps/organiser/.
    assert "HttpOnly" in cookie and "Path=/;" in cookie
    assert "org@example.org" not in cookie
    attack(limited)
    forged = limited.test_client()
    forged.set_cookie(devices.COOKIE, "W10.forged.signature", path="/organiser/")
    assert attempt(forged, ORGANISER_HOME).status_code == 429


def test_a_device_known_for_one_account_is_not_spared_for_another(limited):
    add_organiser(limited, "second@example.org")
    client = limited.test_client()
    assert attempt(client, ORGANISER_HOME, "second@example.org").status_code == 302
    attack(limited)
    assert attempt(client, ORGANISER_HOME).status_code == 429


def test_the_per_address_limit_applies_to_known_devices_too(limited, known_device):
    for _ in range(3):
        wrong = attempt(known_device, ORGANISER_HOME, password="a wrong guess")
        assert wrong.status_code == 400
    assert attempt(known_device, ORGANISER_HOME).status_code == 429
    assert attempt(limited.test_client(), "192.0.2.8").status_code == 302


def test_successful_sign_ins_do_not_use_up_the_limits(limited):
    for _ in range(5):
        assert attempt(limited.test_client(), "192.0.2.9").status_code == 302
    # Both buckets still hold all three failures.
    for _ in range(3):
        fresh = limited.test_client()
        assert attempt(fresh, "192.0.2.9", password="a wrong guess").status_code == 400
    assert attempt(limited.test_client(), "192.0.2.9").status_code == 429


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short one", "Use at least 12 characters."),
        ("aaaaaaaaaaaa", "it repeats characters"),
        ("password1234", "it is a common password"),
        ("abcdefghijklmn", "it is a sequence"),
        ("michaeljohnson", "common words or names"),
        ("new@example.org2", "your email address"),
    ],
)
def test_guessable_passwords_are_refused_with_the_reason(app, runner, password, reason):
    result = runner.invoke(
        args=["campaign", "create-organiser", "new@example.org"],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 1
    assert reason in result.output


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Kq8#vN2!pLm9@zR4 wT7&" * 40]
)
def test_strong_passwords_of_any_length_are_accepted(app, runner, password):
    result = runner.invoke(
        args=["campaign", "create-organiser", "new@example.org"],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 0, result.output


def test_the_admin_page_and_password_change_refuse_guessable_passwords(app):
    admin = signed_in(app, "boss@example.org", Role.ADMIN)
    response = submit(
        admin,
        "/organiser/organisers",
        email="new@example.org",
        role="editor",
        password="password1234",
    )
    assert response.status_code == 400
    assert "it is a common password" in response.get_data(as_text=True)
    response = submit(
        admin,
        "/organiser/password",
        current=PASSWORD,
        new="aaaaaaaaaaaa",
        repeat="aaaaaaaaaaaa",
    )
    assert response.status_code == 400
    assert "it repeats characters" in response.get_data(as_text=True)
    accepted = submit(
        admin,
        "/organiser/organisers",
        email="new@example.org",
        role="editor",
        password=PASSWORD,
    )
    assert accepted.status_code == 302
