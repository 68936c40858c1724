"""Three languages, each at its own URLs: /fa/… (Dari) and /ps/… (Pashto)
beside English, the switcher, the remembered choice and email in the signer's
language (receipts too). They check structure, not words."""

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.mailing.models import Subscriber
from campaign.permissions import Role
from campaign.petition.models import Signature
from tests.donate_helpers import (
    ATTEMPT,
    CAMPAIGN,
    checkout_session,
    deliver,
    event,
    invoice,
    rows,
    stripe_config,
    subscription_session,
)
from tests.helpers import SLUG, csrf_token, petition_renders, sign, submit
from tests.stripe_standin import running
from tests.test_broadcast_languages import written
from tests.test_broadcasts import add_subscribers, send_now
from tests.test_organiser import PASSWORD, add_organiser, log_in

BASE = "http://campaign.test"
OPENINGS = {
    "": '<html lang="en" dir="ltr">',
    "/fa": '<html lang="fa-AF" dir="rtl">',
    "/ps": '<html lang="ps" dir="rtl">',
}
PAGES = ["/", f"/petitions/{SLUG}", "/join", "/donate", "/organiser/login"]
EASTERN_DIGITS = re.compile("[۰-۹]")


class Elements(HTMLParser):
    """Every start tag of a page, as (tag, attributes)."""

    def __init__(self, html: str):
        """Parse ``html`` at once."""
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        """Keep the tag and its attributes."""
        self.tags.append((tag, dict(attrs)))

    def urls(self) -> list[str]:
        """Every link, form action and script or image source on the page."""
        return [
            value
            for _tag, attrs in self.tags
            for name, value in attrs.items()
            if name in ("href", "action", "src") and value
        ]

    def find(self, tag: str, **wanted) -> list[dict]:
        """The attributes of every ``tag`` whose attributes include ``wanted``."""
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and all(attrs.get(k) == v for k, v in wanted.items())
        ]


def page(client, path: str) -> Elements:
    """The page at ``path``, parsed (it must answer 200)."""
    response = client.get(path)
    assert response.status_code == 200, path
    return Elements(response.get_data(as_text=True))


@pytest.mark.parametrize("prefix", ["", "/fa", "/ps"])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_in_the_language_its_url_names(client, prefix, path):
    html = client.get(prefix + path).get_data(as_text=True)
    assert OPENINGS[prefix] in html


@pytest.mark.parametrize("prefix", ["/fa", "/ps"])
@pytest.mark.parametrize("path", PAGES)
def test_links_and_forms_stay_in_the_language(client, prefix, path):
    elements = page(client, prefix + path)
    alternates = {a["href"] for a in elements.find("link", rel="alternate")}
    # A translation's link to its English original leaves on purpose, and says so.
    originals = {a["href"] for a in elements.find("a", hreflang="en")}
    for url in elements.urls():
        if url.startswith("#") or url in alternates | originals:
            continue
        local = url.removeprefix(BASE)
        if local == url and not url.startswith("/"):
            continue  # a share link to another site
        if local.startswith("/static/"):
            continue
        assert local.startswith(f"{prefix}/"), url


def test_english_pages_stay_where_they_were(client):
    elements = page(client, f"/petitions/{SLUG}")
    alternates = {a["href"] for a in elements.find("link", rel="alternate")}
    for url in set(elements.urls()) - alternates:
        assert not url.startswith(("/fa/", "/ps/", f"{BASE}/fa/")), url


def test_static_files_have_one_url_for_every_language(client):
    elements = page(client, "/fa/")
    assets = [a["href"] for a in elements.find("link", rel="stylesheet")]
    assets += [s["src"] for s in elements.find("script")]
    assert assets
    for url in assets:
        assert url.startswith("/static/"), url
        with client.get(url) as response:
            assert response.status_code == 200
    assert client.get("/fa/static/css/site.css").status_code == 404


def test_an_unknown_page_says_so_in_the_language(client):
    response = client.get("/ps/petitions/no-such-petition")
    assert response.status_code == 404
    assert OPENINGS["/ps"] in response.get_data(as_text=True)


def test_the_switcher_links_the_same_page_in_each_language(client):
    elements = page(client, f"/fa/petitions/{SLUG}")
    # The switcher's links, each named in its own language (lang=).
    links = {
        a["lang"]: a for a in elements.find("a") if "hreflang" in a and "lang" in a
    }
    assert set(links) == {"en", "fa-AF", "ps"}
    for tag, link in links.items():
        assert link["hreflang"] == tag
        assert link["dir"] == ("ltr" if tag == "en" else "rtl")
    assert [t for t, a in links.items() if a.get("aria-current") == "true"] == ["fa-AF"]
    html = client.get(f"/fa/petitions/{SLUG}").get_data(as_text=True)
    for name in ("English", "دری", "پښتو"):
        assert f">{name}</a>" in html
    chosen = client.get(links["ps"]["href"])
    assert chosen.status_code == 303
    assert chosen.headers["Location"] == f"/ps/petitions/{SLUG}"
    assert "no-store" in chosen.headers["Cache-Control"]
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith("lang=ps;")
    assert "Path=/;" in cookie and "SameSite=Lax" in cookie and "HttpOnly" in cookie
    english = client.get(links["en"]["href"])
    assert english.headers["Location"] == f"/petitions/{SLUG}"


@pytest.mark.parametrize(
    "target", ["https://attacker.example/", "//attacker.example/", "/\\attacker", ""]
)
def test_the_switcher_only_goes_to_our_own_pages(client, target):
    response = client.get("/language/fa_AF", query_string={"next": target})
    assert response.headers["Location"] == "/fa/"


def test_the_switcher_knows_only_the_sites_languages(client):
    assert client.get("/language/fr?next=/").status_code == 404
    assert "Set-Cookie" not in client.get("/language/fr?next=/").headers


def test_public_pages_name_their_versions_in_every_language(client):
    elements = page(client, f"/ps/petitions/{SLUG}")
    alternates = {
        a["hreflang"]: a["href"] for a in elements.find("link", rel="alternate")
    }
    assert alternates == {
        "en": f"{BASE}/petitions/{SLUG}",
        "fa-AF": f"{BASE}/fa/petitions/{SLUG}",
        "ps": f"{BASE}/ps/petitions/{SLUG}",
        "x-default": f"{BASE}/petitions/{SLUG}",
    }
    [canonical] = elements.find("link", rel="canonical")
    assert canonical["href"] == f"{BASE}/ps/petitions/{SLUG}"
    assert not page(client, "/fa/organiser/login").find("link", rel="alternate")


@pytest.mark.parametrize(
    ("path", "original"),
    [("/fa/", "/"), (f"/ps/petitions/{SLUG}", f"/petitions/{SLUG}")],
)
def test_a_translation_links_straight_to_the_english_original(client, path, original):
    notices = [a["href"] for a in page(client, path).find("a", hreflang="en")]
    originals = [href for href in notices if "language/" not in href]
    assert original in originals  # not /fa/?lang=en, which would redirect
    assert all(href.startswith(("/", "/petitions/")) for href in originals)
    assert not any(href.startswith(("/fa/", "/ps/")) for href in originals)


def test_share_links_carry_the_language(client):
    html = client.get(f"/fa/petitions/{SLUG}/thanks").get_data(as_text=True)
    assert f"{BASE}/fa/petitions/{SLUG}" in html
    assert f'{BASE}/petitions/{SLUG}"' not in html


@pytest.mark.parametrize(
    ("asked", "location"),
    [
        ("lang=fa_AF", f"/fa/petitions/{SLUG}"),
        ("lang=fa", f"/fa/petitions/{SLUG}"),
        ("lang=ps&source=petition", f"/ps/petitions/{SLUG}?source=petition"),
        ("lang=en", f"/petitions/{SLUG}"),
        ("lang=xx", f"/petitions/{SLUG}"),
    ],
)
def test_old_lang_links_move_to_the_languages_url(client, asked, location):
    response = client.get(f"/petitions/{SLUG}?{asked}")
    assert response.status_code == 301
    assert response.headers["Location"] == location


def test_a_chosen_language_opens_at_the_front_door_only(client):
    client.get("/language/fa_AF?next=/")  # the cookie, as the switcher sets it
    front = client.get("/")
    assert front.status_code == 302
    assert front.headers["Location"] == "/fa/"
    assert "Cookie" in front.vary
    assert "no-store" in front.headers["Cache-Control"]
    assert "public" not in front.headers["Cache-Control"]
    # Every other URL is its own language, whatever the cookie says.
    petition = client.get(f"/petitions/{SLUG}")
    assert petition.status_code == 200
    assert OPENINGS[""] in petition.get_data(as_text=True)
    client.get("/language/en?next=/")
    assert client.get("/").status_code == 200


def test_visitors_without_a_choice_keep_the_shared_front_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers


def test_the_page_cache_keeps_languages_apart(app_factory, monkeypatch):
    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30)
    renders = petition_renders(monkeypatch)
    visitor = app.test_client()
    path = f"/petitions/{SLUG}"
    english = visitor.get(path)
    assert OPENINGS[""] in english.get_data(as_text=True)
    for _round in range(2):  # an English copy is never served at /fa/
        dari = visitor.get(f"/fa{path}")
        assert OPENINGS["/fa"] in dari.get_data(as_text=True)
    assert len(renders) == 2  # one per language, then the kept copy
    assert dari.headers["ETag"] != english.headers["ETag"]


def test_numbers_are_written_in_the_languages_digits(client):
    html = client.get(f"/fa/petitions/{SLUG}").get_data(as_text=True)
    [count] = re.findall(r"<strong data-count>([^<]*)</strong>", html)
    assert count == "۰"
    assert client.get(f"/ps/petitions/{SLUG}/count.json").get_json()["count_text"] == (
        "۰"
    )
    english = client.get(f"/petitions/{SLUG}/count.json").get_json()
    assert english["count_text"] == "0"
    assert not EASTERN_DIGITS.search(client.get("/").get_data(as_text=True))


def test_a_length_limit_is_written_in_the_languages_digits(client):
    too_long = "a" * 330 + "@example.org"
    for prefix, limit in (("/fa", "۳۲۰"), ("/ps", "۳۲۰"), ("", "320")):
        path = f"{prefix}/organiser/login"
        response = submit(client, path, email=too_long, password="x")
        assert response.status_code == 400
        [error] = re.findall(
            r'<p class="error" id="email-error">([^<]*)</p>',
            response.get_data(as_text=True),
        )
        assert limit in error and (not prefix or "320" not in error), error


def signature_locale(app, email: str) -> str:
    """The locale stored with a signature."""
    with app.app_context():
        return db.session.scalar(
            sa.select(Signature.locale).where(Signature.email_hash == email_hash(email))
        )


@pytest.mark.parametrize(("prefix", "locale"), [("/fa", "fa_AF"), ("/ps", "ps")])
def test_signing_in_a_language_mails_in_it(app, client, inbox, prefix, locale):
    email = f"signer-{locale.lower()}@example.org"
    response = client.post(
        f"{prefix}/petitions/{SLUG}/sign",
        data={"name": "Malalai Joya", "email": email, "country": "AF"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"{prefix}/petitions/{SLUG}/check-email"
    assert signature_locale(app, email) == locale

    [message] = inbox.to(email)
    with app.app_context(), force_locale(locale):
        subject = _("Please confirm your signature")
    assert message["Subject"] == subject != "Please confirm your signature"
    html = message.get_body(("html",)).get_content()
    assert OPENINGS[prefix] in html
    links = re.findall(r"https?://[^\s\"'<>]+", inbox.text(message) + html)
    assert links
    for link in links:
        assert link.startswith(f"{BASE}{prefix}/"), link
    confirm = inbox.link(message)
    confirmed = client.get(confirm.removeprefix(BASE))
    assert confirmed.headers["Location"] == f"{prefix}/petitions/{SLUG}/thanks"


def test_joining_in_pashto_mails_pashto_links(app, client, inbox):
    response = client.post(
        "/ps/join", data={"email": "grace@example.org", "name": "Grace"}
    )
    assert response.status_code == 303
    with app.app_context():
        locale = db.session.scalar(
            sa.select(Subscriber.locale).where(
                Subscriber.email_key == email_hash("grace@example.org")
            )
        )
    assert locale == "ps"
    [message] = inbox.to("grace@example.org")
    assert OPENINGS["/ps"] in message.get_body(("html",)).get_content()
    text = inbox.text(message)
    assert f"{BASE}/ps/join/confirm/" in text
    for link in re.findall(r"https?://\S+", text):
        assert link.startswith(f"{BASE}/ps/"), link


def test_organisers_sign_in_under_a_language(app, client):
    add_organiser(app)
    asked = client.get("/fa/organiser/supporters")
    assert asked.status_code == 302
    login = asked.headers["Location"]
    assert login.startswith("/fa/organiser/login?next=")
    response = client.post(
        login,
        data={
            "csrf_token": csrf_token(client, login),
            "email": "org@example.org",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/fa/organiser/supporters"
    for cookie in response.headers.getlist("Set-Cookie"):
        assert "Path=/;" in cookie or cookie.endswith("Path=/"), cookie
    home = client.get("/fa/organiser/supporters")
    assert home.status_code == 200
    assert OPENINGS["/fa"] in home.get_data(as_text=True)
    # The same session opens the English organiser pages too (cookie path /).
    assert client.get("/organiser/supporters").status_code == 200


def test_signing_from_a_language_page_is_same_origin(client):
    # The cross-site check compares origins, which have no path or prefix.
    response = sign(client, headers={"Origin": BASE})
    assert response.status_code == 303
    response = client.post(
        f"/fa/petitions/{SLUG}/sign",
        data={"name": "Ada Lovelace", "email": "ada2@example.org", "country": "GB"},
        headers={"Origin": BASE},
    )
    assert response.status_code == 303


@pytest.fixture
def standin():
    """The local stand-in for Stripe's API."""
    with running() as server:
        yield server


def receipt_in(app, inbox, email: str, locale: str, prefix: str):
    """The one receipt sent to ``email``: in ``locale``, its links under ``prefix``."""
    [message] = inbox.to(email)[-1:]
    with app.app_context(), force_locale(locale):
        subject = _("Thank you for your donation")
    assert message["Subject"] == subject != "Thank you for your donation"
    html = message.get_body(("html",)).get_content()
    assert OPENINGS[prefix] in html
    links = re.findall(r"https?://\S+", inbox.text(message))
    assert links
    for link in links:
        assert link.startswith(f"{BASE}{prefix}/"), link
    return message


def test_a_gift_from_a_pashto_page_is_receipted_in_pashto(app_factory, standin, inbox):
    app = app_factory(**stripe_config(standin))
    client = app.test_client()
    form = client.get("/ps/donate").get_data(as_text=True)
    response = client.post(
        "/ps/donate/checkout",
        data={
            "attempt": ATTEMPT.search(form).group(1),
            "source": "banner",
            "amount": "25",
            "frequency": "one_off",
        },
    )
    assert response.status_code == 303
    [call] = standin.api_calls("/v1/checkout/sessions")
    assert call.params["metadata[locale]"] == "ps"
    assert call.params["payment_intent_data[metadata][locale]"] == "ps"
    assert call.params["success_url"] == f"{BASE}/ps/donate/thanks"
    metadata = {"campaign": CAMPAIGN, "kind": "one_off", "locale": "ps"}
    deliver(
        client, event("checkout.session.completed", checkout_session(metadata=metadata))
    )
    [donation] = rows(app)
    assert donation.locale == "ps"
    receipt_in(app, inbox, "donor@example.org", "ps", "/ps")


def test_every_month_of_a_dari_gift_is_receipted_in_dari(app_factory, standin, inbox):
    app = app_factory(**stripe_config(standin))
    client = app.test_client()
    metadata = {"campaign": CAMPAIGN, "kind": "monthly", "locale": "fa_AF"}
    started = subscription_session()
    started["metadata"] = metadata
    deliver(client, event("checkout.session.completed", started))
    for month in (1, 2):
        bill = invoice(month=month)
        bill["parent"]["subscription_details"]["metadata"] = metadata
        deliver(client, event("invoice.paid", bill))
        message = receipt_in(app, inbox, "monthly@example.org", "fa_AF", "/fa")
    assert "/fa/donate/manage/" in inbox.text(message)
    assert [d.locale for d in rows(app)] == ["fa_AF", "fa_AF"]


def test_a_gift_in_no_language_of_ours_is_receipted_in_english(
    app_factory, standin, inbox
):
    app = app_factory(**stripe_config(standin))
    metadata = {"campaign": CAMPAIGN, "kind": "one_off", "locale": "xx"}
    deliver(
        app.test_client(),
        event("checkout.session.completed", checkout_session(metadata=metadata)),
    )
    [donation] = rows(app)
    assert donation.locale == "en"
    [message] = inbox.to("donor@example.org")
    assert message["Subject"] == "Thank you for your donation"


def test_a_dari_broadcast_links_to_dari_pages(app, inbox):
    add_subscribers(app, ["dari@example.org"])
    with app.app_context():
        db.session.execute(
            sa.update(Subscriber)
            .filter_by(email_key=email_hash("dari@example.org"))
            .values(locale="fa_AF")
        )
        db.session.commit()
    editor = app.test_client()
    add_organiser(app, role=Role.EDITOR)
    assert log_in(editor).status_code == 302
    broadcast_id = written(editor, fa_AF=("خبر تازه", "سلام!"))
    assert send_now(editor, broadcast_id).status_code == 302
    [message] = inbox.to("dari@example.org")
    links = re.findall(r"https?://[^\s<>\"']+", inbox.text(message))
    links += re.findall(r"<(https?://[^>]+)>", message["List-Unsubscribe"])
    assert any("/unsubscribe/" in link for link in links)
    for link in links:
        assert link.startswith(f"{BASE}/fa/"), link
