"""Supporters looking after their own data from the links in their emails:
withdrawing a signature, a copy of their data, deleting everything, and no
page reached by a link showing who they are."""

import json
import re

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.donate.models import Donation
from campaign.extensions import db
from campaign.mailing import broadcasts
from campaign.mailing import services as mailing
from campaign.mailing.models import Delivery
from campaign.mailing.sender import send_broadcast
from campaign.permissions import Role
from campaign.petition.models import Signature, SignatureConsent
from campaign.petition.tokens import stop_updates_token
from tests.donate_helpers import checkout_session, deliver, event, stripe_config
from tests.helpers import SLUG, count, sign, submit
from tests.stripe_standin import running
from tests.test_broadcasts import add_subscribers, send_now, write
from tests.test_mailing import join
from tests.test_organiser import add_organiser, log_in

NAME, EMAIL = "Ada Lovelace", "ada@example.org"
OTHER_NAME, OTHER = "Grace Hopper", "grace@example.org"
WITHDRAW = r"/your-data/withdraw/"


@pytest.fixture
def editor(app):
    """A client signed in as an editor (broadcasts need one)."""
    client = app.test_client()
    add_organiser(app, role=Role.EDITOR)
    assert log_in(client).status_code == 302
    return client


def path(url: str) -> str:
    """The path of one of our absolute links."""
    return re.sub(r"^https?://[^/]+", "", url)


def signed(app, inbox, email=EMAIL, name=NAME, confirm=True, **fields):
    """Sign like a supporter and (by default) follow the confirmation link;
    return the signer's email."""
    client = app.test_client()
    assert sign(client, name=name, email=email, **fields).status_code == 303
    message = inbox.to(email)[-1]
    if confirm:
        assert client.get(path(inbox.link(message))).status_code == 303
    return message


def shows_no_one(page: str, *people: str) -> bool:
    """Whether a page shows none of these names or addresses."""
    people = people or (NAME, EMAIL)
    words = {part for person in people for part in person.split()}
    return not any(word in page for word in words)


def signatures(app) -> int:
    """How many signature rows are stored."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Signature.id)))


def test_every_signer_email_links_to_withdraw_and_to_their_data(app_factory, inbox):
    app = app_factory(NOTICE_INTERVAL=0)
    signed(app, inbox)
    sign(app.test_client(), name=NAME, email=EMAIL)  # confirmed: "already signed"
    first, already = inbox.to(EMAIL)
    assert "already signed" in inbox.text(already)
    for message in (first, already):
        assert inbox.link(message, WITHDRAW)
        assert inbox.link(message, r"/your-data/signature/")
        assert "/your-data/withdraw/" in message.get_body(("html",)).get_content()


def test_list_mail_and_broadcasts_link_to_the_data_page(app, client, editor, inbox):
    join(client, email="joiner@example.org")
    [confirm] = inbox.to("joiner@example.org")
    assert inbox.link(confirm, r"/your-data/list/")
    join(client, email="joiner@example.org")  # pending still: confirm again
    add_subscribers(app, [OTHER])
    join(client, email=OTHER)  # "already on the list"
    [already] = inbox.to(OTHER)
    page = client.get(path(inbox.link(already, r"/your-data/list/")))
    assert page.status_code == 200 and "Delete everything about me" in page.text
    send_now(editor, write(editor))
    broadcast = inbox.to(OTHER)[-1]
    link = inbox.link(broadcast, r"/your-data/list/")
    assert "0TOKEN0" not in link
    assert link in broadcast.get_body(("html",)).get_content()
    assert client.get(path(link)).status_code == 200


def test_a_receipt_links_to_the_donors_data_page(app_factory, inbox):
    with running() as standin:
        app = app_factory(**stripe_config(standin))
        client = app.test_client()
        paid = event("checkout.session.completed", checkout_session())
        assert deliver(client, paid).status_code == 200
    [receipt] = inbox.to("donor@example.org")
    page = client.get(path(inbox.link(receipt, r"/your-data/donation/")))
    assert page.status_code == 200
    assert "donor@example.org" not in page.text


def test_withdrawing_drops_the_public_count_at_once_and_twice_is_safe(app, inbox):
    message = signed(app, inbox, join_list="y")
    client = app.test_client()
    assert count(client) == 1
    link = path(inbox.link(message, WITHDRAW))
    page = client.get(link)
    assert page.status_code == 200
    assert "Withdraw my signature" in page.text and page.text.count("<button") == 1
    assert shows_no_one(page.text)
    done = client.post(link)
    assert done.status_code == 200 and "has been withdrawn" in done.text
    assert count(client) == 0
    assert ">0<" in client.get(f"/petitions/{SLUG}").text.replace(" ", "")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SignatureConsent.id))) == 0
    assert signatures(app) == 0
    # Again, or the old link later: a calm page, and nothing moves.
    for again in (client.post(link), client.get(link)):
        assert again.status_code == 200 and "already been withdrawn" in again.text
    assert count(client) == 0


def test_a_pending_signature_can_be_withdrawn_too(app, inbox):
    message = signed(app, inbox, confirm=False)
    client = app.test_client()
    assert client.post(path(inbox.link(message, WITHDRAW))).status_code == 200
    assert signatures(app) == 0
    # Its confirmation link now finds nothing to count.
    assert client.get(path(inbox.link(message))).status_code == 404
    assert count(client) == 0


def test_a_withdraw_form_from_another_site_is_refused(app, inbox):
    message = signed(app, inbox)
    link = path(inbox.link(message, WITHDRAW))
    client = app.test_client()
    response = client.post(link, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert count(client) == 1 and signatures(app) == 1


def test_expired_links_are_refused_cleanly(app_factory, inbox):
    app = app_factory(SELF_SERVICE_LINK_MAX_AGE=-1)
    message = signed(app, inbox)
    client = app.test_client()
    link = path(inbox.link(message, WITHDRAW))
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 410 and "expired" in response.text
    assert signatures(app) == 1
    data = path(inbox.link(message, r"/your-data/signature/"))
    assert client.post(data, data={"action": "erase"}).status_code == 200
    erase = path(inbox.link(inbox.to(EMAIL)[-1], r"/your-data/confirm/erase/"))
    assert client.post(erase).status_code == 410
    assert signatures(app) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
        lambda token: "not-a-token",
        lambda token: token + "x",
    ],
)
def test_tampered_links_are_refused_cleanly(app, inbox, tamper):
    message = signed(app, inbox)
    client = app.test_client()
    links = [inbox.link(message, WITHDRAW), inbox.link(message, "/your-data/sig")]
    for link in links:
        base, token = path(link).rsplit("/", 1)
        for response in (
            client.get(f"{base}/{tamper(token)}"),
            client.post(f"{base}/{tamper(token)}", data={"action": "erase"}),
        ):
            assert response.status_code == 404
            assert "This link doesn't work" in response.text
    assert signatures(app) == 1 and len(inbox.to(EMAIL)) == 1


def ask(app, inbox, message, action: str, kind="signature", email=EMAIL) -> str:
    """Press a button on the "your data" page an email's ``kind`` link opens;
    return the path of the link then emailed to confirm."""
    client = app.test_client()
    page = path(inbox.link(message, rf"/your-data/{kind}/"))
    shown = client.get(page)
    assert shows_no_one(shown.text, email)
    response = client.post(page, data={"action": action})
    assert response.status_code == 200 and "Check your email" in response.text
    assert shows_no_one(response.text, email)
    return path(inbox.link(inbox.to(email)[-1], rf"/your-data/confirm/{action}/"))


def test_a_copy_of_the_data_arrives_as_an_attached_file(app, inbox):
    message = signed(app, inbox, comment="Count me in")
    signed(app, inbox, email=OTHER, name=OTHER_NAME, comment="Someone else")
    link = ask(app, inbox, message, "copy")
    client = app.test_client()
    page = client.get(link)
    assert page.status_code == 200 and shows_no_one(page.text)
    before = len(inbox.to(EMAIL))
    done = client.post(link)
    assert done.status_code == 200 and shows_no_one(done.text)
    [copy] = inbox.to(EMAIL)[before:]
    [attachment] = list(copy.iter_attachments())
    assert attachment.get_filename() == "your-data.json"
    assert attachment.get_content_type() == "application/json"
    raw = attachment.get_content()
    data = json.loads(raw if isinstance(raw, str) else raw.decode())
    [signature] = data["signatures"]
    assert signature["name"] == NAME and signature["email"] == EMAIL
    assert signature["comment"] == "Count me in" and signature["petition"] == SLUG
    text = json.dumps(data)
    assert OTHER not in text and OTHER_NAME not in text and "Someone" not in text
    assert inbox.to(OTHER)[1:] == []  # the other signer got nothing more
    with app.app_context():
        assert db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "self-export")
        )


def test_deleting_everything_erases_and_never_mails_again(app, inbox):
    message = signed(app, inbox, join_list="y")
    signed(app, inbox, email=OTHER, name=OTHER_NAME)
    client = app.test_client()
    assert count(client) == 2
    with app.app_context():
        assert mailing.get_subscriber(EMAIL) is not None
    link = ask(app, inbox, message, "erase")
    assert signatures(app) == 2  # asking alone changes nothing
    done = client.post(link)
    assert done.status_code == 200 and "deleted everything" in done.text
    assert count(client) == 1 and signatures(app) == 1
    with app.app_context():
        assert mailing.get_subscriber(EMAIL) is None
        assert mailing.suppression_reason(EMAIL) is not None
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "self-erase")
        )
        assert entry.organiser_id is None and EMAIL not in entry.detail
    # The link again, or any other of this person's links: nothing is held.
    again = client.post(link)
    assert again.status_code == 200 and "no longer hold" in again.text
    assert client.get(path(inbox.link(message, WITHDRAW))).status_code == 200


def subjects(inbox, address: str) -> list[str]:
    """The subjects of the messages sent to an address, oldest first."""
    return [message["Subject"] for message in inbox.to(address)]


def test_a_newcomer_inherits_no_copies_from_an_erased_subscriber(app, editor, inbox):
    """Deleting everything leaves the broadcast ledger's copies counted but
    naming no one. SQLite gives the next subscriber the erased one's id
    again: that newcomer is not sent the erased person's copy of a broadcast
    already under way, and gets the next broadcast once."""
    newcomer = "newcomer@example.org"
    add_subscribers(app, [OTHER, EMAIL])  # EMAIL's row: the highest id
    send_now(editor, write(editor, subject="First news"))
    under_way = write(editor, subject="Under way")
    with app.app_context():
        assert broadcasts.start(under_way)  # its ledger made, nothing sent yet
        erased = mailing.get_subscriber(EMAIL).id
    link = ask(app, inbox, inbox.to(EMAIL)[-1], "erase", kind="list")
    assert "deleted everything" in app.test_client().post(link).text
    with app.app_context():
        named = sa.select(sa.func.count()).where(Delivery.subscriber_id == erased)
        assert db.session.scalar(named) == 0
        assert db.session.scalar(sa.select(sa.func.count(Delivery.id))) == 4
    add_subscribers(app, [newcomer])
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert mailing.get_subscriber(newcomer).id == erased  # the case here
        send_broadcast(under_way)
    send_now(editor, write(editor, subject="Later news"))
    assert subjects(inbox, newcomer) == ["Later news"]
    assert subjects(inbox, OTHER) == ["First news", "Under way", "Later news"]


def test_a_link_for_one_purpose_does_not_work_for_another(app, inbox):
    message = signed(app, inbox)
    copy = ask(app, inbox, message, "copy")
    token = copy.rsplit("/", 1)[1]
    withdraw = path(inbox.link(message, WITHDRAW)).rsplit("/", 1)[1]
    data = path(inbox.link(message, "/your-data/signature/")).rsplit("/", 1)[1]
    confirm = path(inbox.link(message)).rsplit("/", 1)[1]
    client = app.test_client()
    wrong = [
        f"/your-data/confirm/erase/signature/{token}",
        f"/your-data/confirm/copy/donation/{token}",
        f"/your-data/withdraw/{token}",
        f"/your-data/withdraw/{data}",
        f"/your-data/withdraw/{confirm}",
        f"/your-data/signature/{withdraw}",
        f"/your-data/donation/{data}",
        f"/your-data/confirm/erase/signature/{data}",
        f"/your-data/confirm/copy/signature/{withdraw}",
    ]
    for link in wrong:
        assert client.post(link, data={"action": "erase"}).status_code == 404, link
    assert count(client) == 1 and signatures(app) == 1


def test_the_confirm_and_token_pages_show_neither_name_nor_email(app, inbox):
    message = signed(app, inbox, confirm=False, join_list="y", wants_updates="y")
    client = app.test_client()  # the signer, or whoever has the email
    thanks = client.get(path(inbox.link(message)), follow_redirects=True)
    assert thanks.status_code == 200 and shows_no_one(thanks.text)
    assert shows_no_one(client.get("/donate?source=petition").text)
    with app.app_context():
        token = mailing.get_subscriber(EMAIL).token
        signature = db.session.scalar(sa.select(Signature))
        stop = stop_updates_token(signature)
    pages = [
        f"/preferences/{token}",
        f"/unsubscribe/{token}",
        f"/your-data/list/{token}",
        f"/your-data/updates/{stop}",
        f"/petitions/{SLUG}/updates/stop/{stop}",
        path(inbox.link(message, WITHDRAW)),
        path(inbox.link(message, "/your-data/signature/")),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert shows_no_one(response.text), page
    response = submit(client, f"/preferences/{token}", choice="leave")
    assert shows_no_one(response.text)


def test_one_data_link_asks_for_a_few_emails_then_is_told_to_wait(app_factory, inbox):
    """Whoever holds a forwarded link cannot fill its owner's inbox."""
    app = app_factory(SELF_SERVICE_RATE_LIMIT="2 per hour")
    message = signed(app, inbox)
    page = path(inbox.link(message, r"/your-data/signature/"))
    client = app.test_client()
    before = len(inbox.to(EMAIL))
    answers = [client.post(page, data={"action": "copy"}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "3600"
    assert "already asked for several emails" in answers[2].text
    assert len(inbox.to(EMAIL)) == before + 2


def test_a_subscriber_gets_a_copy_from_a_broadcast(app, client, editor, inbox):
    add_subscribers(app, [OTHER])
    join(client, email=OTHER, name=OTHER_NAME)  # "already on the list"
    send_now(editor, write(editor))
    broadcast = inbox.to(OTHER)[-1]
    link = ask(app, inbox, broadcast, "copy", kind="list", email=OTHER)
    before = len(inbox.to(OTHER))
    assert client.post(link).status_code == 200
    [copy] = inbox.to(OTHER)[before:]
    [attachment] = list(copy.iter_attachments())
    raw = attachment.get_content()
    data = json.loads(raw if isinstance(raw, str) else raw.decode())
    assert data["email"] == OTHER and data["signatures"] == []
    assert data["mailing_list"]["email"] == OTHER
    assert data["mailing_list"]["state"] == "subscribed"
    assert data["mailing_list"]["consents"][0]["wording"] == "Yes please"


def test_a_donor_erases_from_the_receipt_and_the_accounts_keep_the_amount(
    app_factory, inbox
):
    donor = "donor@example.org"
    with running() as standin:
        app = app_factory(**stripe_config(standin))
        client = app.test_client()
        paid = event("checkout.session.completed", checkout_session())
        assert deliver(client, paid).status_code == 200
        [receipt] = inbox.to(donor)
        link = ask(app, inbox, receipt, "erase", kind="donation", email=donor)
        with app.app_context():
            assert db.session.scalar(sa.select(Donation.email)) == donor
        done = client.post(link)
    assert done.status_code == 200 and "deleted everything" in done.text
    with app.app_context():
        [gift] = db.session.scalars(sa.select(Donation)).all()
        assert (gift.name, gift.email, gift.email_hash) == (None, None, None)
        assert (gift.amount, gift.currency) == (2500, "usd")
        assert gift.payment_intent_id == "pi_test_1"
