"""Signing a petition: the form, double opt-in, duplicates, counting."""

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from campaign.encryption import email_hash
from campaign.extensions import db, limiter
from campaign.models import now_utc
from campaign.petition.models import Petition, PetitionState, Signature, SignatureState
from campaign.petition.tokens import confirmation_token
from campaign.text import canonical_email
from tests.helpers import (
    CROSS_SITE_HEADERS,
    REDIS_URL,
    SAME_SITE_HEADERS,
    SLUG,
    count,
    csrf_token,
    needs_redis,
    refused_as_cross_site,
    sign,
    snapshot,
)


def signatures(app) -> list[Signature]:
    """Every stored signature, oldest first."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Signature).order_by(Signature.id)).all()
        db.session.expunge_all()
        return rows


def path_of(url: str) -> str:
    """The path of an absolute URL from an email."""
    return re.sub(r"^https?://[^/]+", "", url)


def test_sign_confirm_and_count(client, inbox, app):
    response = sign(client, name="Malalai Joya", email="malalai@example.org")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/petitions/{SLUG}/check-email")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Check your email" in page
    assert count(client) == 0  # pending signatures do not count

    [message] = inbox.to("malalai@example.org")
    assert message["Subject"] == "Please confirm your signature"
    assert message.get_body(("html",)) is not None
    link = inbox.link(message)
    assert link.startswith("http://campaign.test/petitions/")
    assert "Hello Malalai," in inbox.text(message)

    confirmed = client.get(path_of(link))
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"].endswith(f"/petitions/{SLUG}/thanks")
    assert count(client) == 1
    [signature] = signatures(app)
    assert signature.state is SignatureState.VALIDATED
    assert signature.validated_at is not None


def test_thank_you_page_has_share_links_and_a_donation_ask(client):
    html = client.get(f"/petitions/{SLUG}/thanks").get_data(as_text=True)
    share_url = f"http%3A//campaign.test/petitions/{SLUG}"
    for host in ["wa.me", "t.me/share", "x.com/intent", "facebook.com/sharer"]:
        assert re.search(rf'href="https://[^"]*{re.escape(host)}[^"]*{share_url}', html)
    assert 'href="mailto:?subject=' in html
    assert f'value="http://campaign.test/petitions/{SLUG}" readonly' in html
    assert 'href="/donate"' in html


def test_a_second_click_on_the_link_counts_once(client, inbox):
    sign(client)
    link = path_of(inbox.link(inbox.messages[0]))
    assert client.get(link).status_code == 303
    assert client.get(link).status_code == 303
    assert count(client) == 1


def test_the_form_starts_with_both_boxes_unticked(client):
    html = client.get("/").get_data(as_text=True)
    for name in ["join_list", "public"]:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'type="checkbox"' in tag and "checked" not in tag


def test_choices_are_stored(client, app):
    sign(client, comment="For my sisters", join_list="y", public="y")
    [signature] = signatures(app)
    assert signature.comment == "For my sisters"
    assert signature.join_list and signature.public
    assert signature.country == "GB"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter your name."),
        ({"name": "   "}, "Enter your name."),
        ({"name": "x" * 256}, "Your name must be 255 characters or fewer."),
        ({"name": "Visit https://spam.example"}, "can't contain a web address"),
        ({"name": "see www.spam.example"}, "can't contain a web address"),
        ({"name": "=HYPERLINK(1)"}, "can't start with = + - or @"),
        ({"name": "+44 123"}, "can't start with = + - or @"),
        ({"name": "-dash"}, "can't start with = + - or @"),
        ({"name": "@handle"}, "can't start with = + - or @"),
        ({"name": "Ada\x00Lovelace"}, "can't contain control characters"),
        ({"comment": "nul\x00byte"}, "Remove the invisible control characters."),
        ({"email": "ada\x00@example.org"}, "Enter an email address like"),
        ({"email": "a" * 300 + "@example.org"}, "Enter an email address like"),
        ({"email": ""}, "Enter your email address."),
        ({"email": "not-an-email"}, "Enter an email address like name@example.org."),
        ({"email": "a@b"}, "Enter an email address like name@example.org."),
        ({"country": ""}, "Choose your country."),
        ({"country": "XX"}, "Choose your country from the list."),
        ({"country": "gb"}, "Choose your country from the list."),
        ({"comment": "y" * 501}, "Keep your comment to 500 characters."),
    ],
)
def test_bad_input_gets_a_field_message_and_stores_nothing(
    client, app, inbox, fields, message
):
    response = sign(client, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert signatures(app) == []
    assert inbox.messages == []


COUNTRY_SELECT = re.compile(r'<select[^>]*name="country".*?</select>', re.DOTALL)


@pytest.mark.parametrize("country", [None, "", "FR", "XX", 'GB">'])
def test_country_list_is_wtforms_own_select_with_the_choice_kept(client, app, country):
    """The country options, rendered once per language, come out exactly as
    WTForms renders them: nothing chosen on a first visit, and the country
    sent (or the placeholder) still chosen when the form comes back with an
    error; a value not on the list chooses nothing."""
    from werkzeug.datastructures import MultiDict
    from wtforms.widgets import Select

    from campaign.petition.forms import SignForm

    if country is None:
        page = client.get(f"/petitions/{SLUG}")
    else:
        page = sign(client, name="", country=country)  # refused: no name
    shown = COUNTRY_SELECT.search(page.get_data(as_text=True)).group(0)
    data = MultiDict() if country is None else MultiDict({"country": country})
    with app.test_request_context():
        form = SignForm(formdata=data if country is not None else None)
        if country is not None:
            form.validate()
        attrs = {}
        if form.country.errors:
            attrs = {"aria-invalid": "true", "aria-describedby": "country-error"}
        expected = str(Select()(form.country, **form.country.render_kw, **attrs))
    assert shown == expected
    assert shown.count("<option") == 250
    assert shown.count(" selected") == (1 if country in {"", "FR"} else 0)


def test_a_refused_form_keeps_what_was_typed_and_nobody_else_sees_it(client):
    """Blank fields are rendered once and reused; a field someone filled in
    is rendered from what they typed, and the next visitor gets it blank."""
    first = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    refused = sign(client, name="", email="typed@example.org", comment="Mine")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'value="typed@example.org"' in html
    assert "Mine</textarea>" in html
    assert 'id="name-error"' in html
    again = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "typed@example.org" not in again and "Mine</textarea>" not in again
    assert again.count('<div class="field') == first.count('<div class="field')


def test_names_with_dots_and_accents_are_fine(client, app):
    assert sign(client, name="J. R. R. Tolkien").status_code == 303
    assert (
        sign(client, name="Zoë O’Neil-Ahmadi", email="z@example.org").status_code == 303
    )
    assert [s.name for s in signatures(app)] == [
        "J. R. R. Tolkien",
        "Zoë O’Neil-Ahmadi",
    ]


@pytest.mark.parametrize("headers", CROSS_SITE_HEADERS)
def test_a_signature_sent_from_another_site_is_refused(client, app, inbox, headers):
    before = snapshot(app)
    response = sign(client, headers=headers)
    assert refused_as_cross_site(response)
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert inbox.messages == []


@pytest.mark.parametrize("headers", SAME_SITE_HEADERS)
def test_a_signature_from_our_own_page_needs_no_token(client, app, headers):
    response = sign(client, headers=headers)
    assert response.status_code == 303
    assert [s.email for s in signatures(app)] == ["ada@example.org"]


def test_oversize_body_is_refused(client, app):
    response = sign(client, comment="z" * 100_000)
    assert response.status_code == 413
    assert "at most 16 KB" in response.get_data(as_text=True)
    assert signatures(app) == []


def test_unknown_petition_is_a_404(client):
    assert client.get("/petitions/nope").status_code == 404
    assert client.get("/petitions/nope/count.json").status_code == 404
    assert client.get("/petitions/nope/count.json").get_json() == {
        "error": "We couldn't find that page."
    }


@pytest.mark.parametrize(
    ("email", "canonical"),
    [
        ("Ada@Example.org", "ada@example.org"),
        ("a.d.a+petition@gmail.com", "ada@gmail.com"),
        ("A.DA@googlemail.com", "ada@gmail.com"),
        ("ada+tag@outlook.com", "ada@outlook.com"),
        ("a.da+tag@example.org", "a.da+tag@example.org"),
    ],
)
def test_canonical_email(email, canonical):
    assert canonical_email(email) == canonical


def test_a_repeat_looks_the_same_and_stores_one_signature(client, app, inbox):
    first = sign(client, email="ada.lovelace@gmail.com")
    again = sign(client, email="AdaLovelace+x@gmail.com", name="Someone Else")
    assert (first.status_code, first.headers["Location"]) == (
        again.status_code,
        again.headers["Location"],
    )
    assert len(signatures(app)) == 1
    assert signatures(app)[0].name == "Ada Lovelace"
    # Within the notice interval no second email goes out (no inbox flooding).
    assert len(inbox.messages) == 1


def test_a_repeat_while_pending_resends_the_link(client, app, inbox):
    sign(client)
    age_notice(app)
    sign(client)
    messages = inbox.to("ada@example.org")
    assert [m["Subject"] for m in messages] == ["Please confirm your signature"] * 2
    assert client.get(path_of(inbox.link(messages[1]))).status_code == 303
    assert count(client) == 1


def test_a_repeat_after_confirming_tells_the_owner(client, app, inbox):
    sign(client)
    client.get(path_of(inbox.link(inbox.messages[0])))
    age_notice(app)
    response = sign(client)
    assert response.headers["Location"].endswith("/check-email")
    notice = inbox.messages[-1]
    assert notice["Subject"] == "You have already signed this petition"
    assert "/confirm/" not in inbox.text(notice)
    assert count(client) == 1


def age_notice(app) -> None:
    """Pretend the last email about every signature went out an hour ago."""
    with app.app_context():
        db.session.execute(
            sa.update(Signature).values(notified_at=now_utc() - timedelta(hours=1))
        )
        db.session.commit()


def test_invalidated_signatures_get_no_email_and_the_same_page(client, app, inbox):
    sign(client)
    with app.app_context():
        db.session.execute(
            sa.update(Signature).values(
                state=SignatureState.INVALIDATED,
                notified_at=now_utc() - timedelta(hours=1),
            )
        )
        db.session.commit()
    response = sign(client)
    assert response.status_code == 303
    assert len(inbox.messages) == 1


@pytest.mark.parametrize("token", ["nonsense", "a" * 200, "WzEsImFiYyJd.aaaa.bbbb"])
def test_a_forged_link_is_refused(client, token):
    response = client.get(f"/petitions/{SLUG}/confirm/{token}")
    assert response.status_code == 404
    assert "This link doesn" in response.get_data(as_text=True)
    assert count(client) == 0


def test_an_expired_link_is_refused_and_says_so(app_factory, inbox):
    app = app_factory(CONFIRM_TOKEN_MAX_AGE=-1)
    client = app.test_client()
    sign(client)
    response = client.get(path_of(inbox.link(inbox.messages[0])))
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
    assert count(client) == 0


def test_a_link_only_works_for_the_address_it_was_sent_to(client, app):
    sign(client)
    with app.app_context():
        signature = db.session.scalars(sa.select(Signature)).one()
        token = confirmation_token(signature)
        signature.email_hash = email_hash("someone.else@example.org")
        db.session.commit()
    assert client.get(f"/petitions/{SLUG}/confirm/{token}").status_code == 404
    assert count(client) == 0


def test_latest_public_signers_show_first_name_and_country_only(client, inbox):
    sign(client, name="Ada Lovelace", email="ada@example.org", public="y")
    sign(client, name="Hidden Person", email="hidden@example.org", country="FR")
    sign(client, name="Pending Public", email="pending@example.org", public="y")
    for address in ["ada@example.org", "hidden@example.org"]:
        client.get(path_of(inbox.link(inbox.to(address)[0])))
    html = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "<li><bdi>Ada</bdi>, United Kingdom</li>" in html
    assert "Lovelace" not in html
    assert "Hidden" not in html and "France" not in html.split("Latest signers")[1]
    assert "Pending" not in html


def test_public_confirmed_signers_comments_show_escaped(client, inbox):
    comment = "<b>For my sisters</b> <script>x()</script> https://evil.example"
    sign(client, email="ada@example.org", public="y", comment=comment)
    sign(client, email="private@example.org", comment="Private words")
    sign(client, email="pending@example.org", public="y", comment="Pending words")
    for address in ["ada@example.org", "private@example.org"]:
        client.get(path_of(inbox.link(inbox.to(address)[0])))
    html = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "&lt;b&gt;For my sisters&lt;/b&gt; &lt;script&gt;" in html
    assert "<b>For my sisters" not in html and "<script>x()" not in html
    assert 'href="https://evil.example' not in html  # no link made clickable
    assert "Private words" not in html
    assert "Pending words" not in html


def test_long_comments_are_shortened_on_the_page(client, inbox):
    long_comment = "word " * 80 + "LASTWORD"  # 408 characters: allowed, shortened
    sign(client, public="y", comment=long_comment)
    client.get(path_of(inbox.link(inbox.messages[0])))
    html = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "word word" in html and "…" in html
    assert "LASTWORD" not in html


def test_the_form_says_when_a_comment_is_shown(client):
    html = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "only if you choose to be listed" in html


def test_progress_toward_the_goal(client, inbox):
    sign(client)
    client.get(path_of(inbox.link(inbox.messages[0])))
    html = client.get("/").get_data(as_text=True)
    assert '<progress value="1" max="10000">' in html
    assert "10,000" in html


def test_count_json_is_public_and_cacheable(client):
    response = client.get(f"/petitions/{SLUG}/count.json")
    assert response.get_json() == {
        "slug": SLUG,
        "count": 0,
        "count_text": "0",
        "goal": 10000,
    }
    assert response.cache_control.public and response.cache_control.max_age == 10
    assert "Set-Cookie" not in response.headers


def test_a_closed_petition_takes_no_signatures(client, app):
    token = csrf_token(client)  # a form opened before the petition closed
    with app.app_context():
        db.session.execute(sa.update(Petition).values(state=PetitionState.CLOSED))
        db.session.commit()
    html = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "This petition is closed." in html and "<form" not in html
    response = sign(client, csrf_token=token)
    assert response.status_code == 409
    assert "no longer takes signatures" in response.get_data(as_text=True)
    assert signatures(app) == []


def test_signing_is_rate_limited_per_client(app_factory):
    client = app_factory(SIGN_RATE_LIMIT="2 per minute").test_client()
    assert sign(client, email="one@example.org").status_code == 303
    assert sign(client, email="two@example.org").status_code == 303
    refused = sign(client, email="three@example.org")
    assert refused.status_code == 429  # with a challenge: tests/test_abuse.py
    assert "from your connection" in refused.get_data(as_text=True)


@needs_redis
def test_rate_limits_are_shared_through_redis(app_factory):
    app = app_factory(SIGN_RATE_LIMIT="1 per minute", RATELIMIT_STORAGE_URI=REDIS_URL)
    with app.app_context():
        limiter.reset()
    first, second = app.test_client(), app.test_client()
    assert sign(first, email="one@example.org").status_code == 303
    assert sign(second, email="two@example.org").status_code == 429


def test_rate_limit_uses_the_real_client_behind_a_proxy(app_factory):
    app = app_factory(SIGN_RATE_LIMIT="1 per minute", PROXY_FIX_X_FOR=1)
    client = app.test_client()
    for number in range(3):
        address = {"X-Forwarded-For": f"203.0.113.{number}"}
        response = sign(client, email=f"ada{number}@example.org", headers=address)
        assert response.status_code == 303
    [first, *_] = signatures(app)
    assert first.ip_key and "203.0.113" not in first.ip_key
    assert len(first.ip_key) == 64


def test_recount_repairs_drift(client, app, inbox, runner):
    sign(client)
    client.get(path_of(inbox.link(inbox.messages[0])))
    with app.app_context():
        db.session.execute(sa.text("UPDATE petition_counter_shard SET count = 42"))
        db.session.commit()
    assert count(client) != 1
    result = runner.invoke(args=["campaign", "recount"])
    assert result.exit_code == 0, result.output
    assert f"{SLUG}: 1" in result.output
    assert count(client) == 1


def test_public_count_is_cached_briefly_but_a_signer_sees_their_own(
    app_factory, inbox, monkeypatch
):
    clock = [time.time()]
    monkeypatch.setattr("cachelib.simple.time", lambda: clock[0])
    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=3)
    client = app.test_client()
    assert count(client) == 0
    sign(client)
    client.get(path_of(inbox.link(inbox.messages[0])))
    assert count(client) == 1  # the confirming process drops its cached count
    with app.app_context():  # a confirmation handled by another process
        db.session.execute(sa.text("UPDATE petition_counter_shard SET count = 5"))
        db.session.commit()
    assert count(client) == 1
    clock[0] += 4
    assert count(client) == 5
