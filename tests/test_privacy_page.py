"""The privacy page states the running configuration, in every language, and
every form that takes personal data links to it."""

import html
import re

import pytest
from flask_babel import force_locale

from campaign.i18n.numbers import format_number
from tests.helpers import SLUG
from tests.test_broadcasts import add_subscribers

LANGUAGES = [("", "en"), ("/fa", "fa_AF"), ("/ps", "ps")]
SETTINGS = {
    "RETENTION_PENDING_DAYS": 45,
    "RETENTION_CLOSED_MONTHS": 18,
    "RETENTION_DONATION_YEARS": 9,
    "CLIENT_KEY_HOURS": 12,
    "CLIENT_KEY_KEEP_DAYS": 3,
}


def text_of(client, path: str) -> str:
    """The visible words of a page."""
    response = client.get(path)
    assert response.status_code == 200
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


@pytest.mark.parametrize(("prefix", "locale"), LANGUAGES)
def test_the_page_states_the_configured_periods(app_factory, prefix, locale):
    app = app_factory(**SETTINGS)
    text = text_of(app.test_client(), f"{prefix}/privacy")
    with app.test_request_context(), force_locale(locale):
        for value in SETTINGS.values():
            assert format_number(value) in text, value
        defaults = [format_number(n) for n in (30, 6, 7, 24)]
    for number in defaults:
        assert f" {number} " not in text


@pytest.mark.parametrize(("prefix", "locale"), LANGUAGES)
def test_the_page_follows_a_change_of_setting(app_factory, prefix, locale):
    words = text_of(app_factory().test_client(), f"{prefix}/privacy")
    changed = text_of(
        app_factory(RETENTION_PENDING_DAYS=45).test_client(), f"{prefix}/privacy"
    )
    assert words != changed
    if locale != "en":  # translated, not English
        assert "deleted" not in changed and "Privacy" not in changed


def test_the_defaults_are_stated(client):
    text = text_of(client, "/privacy")
    assert "deleted 30 days after our last email" in text
    assert "signatures for 6 months" in text
    assert "for 7 years" in text
    assert "every 24 hours" in text and "deleted after 7 days" in text


def test_zero_is_stated_as_never(app_factory):
    zeros = dict.fromkeys(SETTINGS, 0) | {"CLIENT_KEY_HOURS": 1}
    text = text_of(app_factory(**zeros).test_client(), "/privacy")
    assert text.count("never deleted automatically") == 4
    assert "changes every hour" in text


def test_the_page_names_the_contact_address(app_factory):
    app = app_factory(CONTACT_EMAIL="privacy@example.org")
    assert "privacy@example.org" in text_of(app.test_client(), "/privacy")


def privacy_links(client, path: str) -> list[str]:
    """The links to the privacy page above the footer (which has its own)."""
    response = client.get(path)
    assert response.status_code == 200, path
    above = response.get_data(as_text=True).split("<footer", 1)[0]
    return re.findall(r'href="([^"]*/privacy)"', above)


@pytest.mark.parametrize(("prefix", "locale"), LANGUAGES)
def test_every_form_links_to_the_page(app_factory, prefix, locale):
    app = app_factory(STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x")
    add_subscribers(app, ["grace@example.org"])
    with app.app_context():
        from campaign.mailing.services import get_subscriber

        token = get_subscriber("grace@example.org").token
    client = app.test_client()
    for path in (f"/petitions/{SLUG}", "/join", "/donate", f"/preferences/{token}"):
        assert privacy_links(client, f"{prefix}{path}") == [f"{prefix}/privacy"], path
