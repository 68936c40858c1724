"""Retention: old personal data is deleted or anonymised, counts stay exact."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from campaign.audit import AuditEntry
from campaign.donate.models import (
    Donation,
    DonationKind,
    DonationState,
    GiftState,
    MonthlyGift,
)
from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.mailing import services as mailing
from campaign.mailing.models import (
    Broadcast,
    Consent,
    Delivery,
    Subscriber,
    SubscriberState,
)
from campaign.models import now_utc
from campaign.petition import services as petitions
from campaign.petition.models import (
    PetitionState,
    Signature,
    SignatureConsent,
    SignatureState,
)
from campaign.petition.stats import petition_stats
from campaign.petition.tokens import confirmation_token
from campaign.privacy.client_keys import client_key
from campaign.retention import services as retention
from campaign.retention.models import RetentionRun
from tests.helpers import SLUG

SIGNERS = [
    ("Ada Lovelace", "ada@example.org", "GB", "For my sisters in Kabul."),
    ("ملالی جویا", "malalai@example.org", "AF", "برای خواهرانم"),
    ("Grace Hopper", "grace@example.org", "US", None),
    ("Nadia Murad", "nadia@example.org", "AF", "Never again."),
]


def later(**delta) -> datetime:
    """A moment after now, as the retention run sees it."""
    return now_utc() + timedelta(**delta)


def sign(email: str, name="Someone", country="GB", comment=None, confirm=True):
    """Sign the campaign's petition through the service (and confirm)."""
    petition = petitions.get_petition(SLUG)
    petitions.sign_petition(
        petition,
        name=name,
        email=email,
        country=country,
        comment=comment,
        join_list=True,
        wants_updates=True,
        public=True,
        ip_key=client_key("203.0.113.7"),
    )
    signature = db.session.scalar(
        sa.select(Signature).filter_by(email_hash=email_hash(email))
    )
    if confirm:
        petitions.confirm_signature(confirmation_token(signature))
    return signature.id


def close(months_ago: int) -> None:
    """Close the campaign's petition as if ``months_ago`` months back."""
    petition = petitions.get_petition(SLUG)
    petition.state = PetitionState.CLOSED
    petition.closed_at = retention.months_before(now_utc(), months_ago)
    db.session.commit()


def signatures() -> list[Signature]:
    """Every signature, read afresh."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Signature).order_by(Signature.id)))


def kept_columns() -> list[tuple]:
    """What anonymising keeps of each signature."""
    return [
        (s.id, s.petition_id, s.state, s.country, s.public, s.join_list, s.locale)
        + (s.created_at, s.validated_at, s.name_hidden, s.comment_hidden)
        for s in signatures()
    ]


def figures() -> dict:
    """What the public and organisers count on the petition."""
    petition = petitions.get_petition(SLUG)
    stats = petition_stats(petition)
    return {
        "count": petitions.confirmed_count(petition.id),
        "recount": db.session.scalar(
            sa.select(sa.func.count()).where(
                Signature.petition_id == petition.id,
                Signature.state == SignatureState.VALIDATED,
            )
        ),
        "by_state": stats.by_state,
        "countries": stats.top_countries,
        "per_day": stats.per_day,
        "per_hour": stats.per_hour,
        "opt_ins": stats.opt_ins,
    }


def test_signatures_of_a_long_closed_petition_are_anonymised_counts_exact(app):
    with app.app_context():
        for name, email, country, comment in SIGNERS:
            sign(email, name, country, comment)
        sign("pending@example.org", "Pat Pending", confirm=False)
        close(months_ago=7)
        before = figures()
        kept = kept_columns()
        consents = db.session.scalar(sa.select(sa.func.count(SignatureConsent.id)))
        assert consents and before["count"] == len(SIGNERS)

        counts = retention.apply_retention()

        assert counts["anonymised_signatures"] == len(SIGNERS) + 1
        assert figures() == before
        assert kept_columns() == kept
        assert petitions.recount(petitions.get_petition(SLUG)) == len(SIGNERS)
        for signature in signatures():
            assert (signature.name, signature.email, signature.comment) == (
                "",
                "",
                None,
            )
            assert signature.email_hash is None and signature.domain_key is None
            assert signature.ip_key is None and not signature.wants_updates
        assert not db.session.scalar(sa.select(sa.func.count(SignatureConsent.id)))
        # Nothing of theirs is left in any signature column.
        rows = db.session.execute(sa.select(Signature.__table__)).all()
        text = repr(rows)
        for name, email, _country, comment in SIGNERS:
            assert name not in text and email not in text
            assert comment is None or comment not in text
        assert sorted(s.country for s in signatures()) == ["AF", "AF", "GB", "GB", "US"]
        assert all(s.public for s in signatures())
        # A second run finds nothing more to do.
        assert retention.apply_retention()["anonymised_signatures"] == 0


def test_the_public_list_of_an_anonymised_petition_names_nobody(app, client):
    with app.app_context():
        sign("ada@example.org", "Ada Lovelace", comment="For my sisters.")
        close(months_ago=7)
        retention.apply_retention()
    html = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "Ada" not in html and "For my sisters." not in html


@pytest.mark.parametrize("months_ago", [5, 0])
def test_a_petition_closed_less_long_keeps_its_signers(app, months_ago):
    with app.app_context():
        sign("ada@example.org", "Ada Lovelace")
        close(months_ago=months_ago)
        assert retention.apply_retention()["anonymised_signatures"] == 0
        assert signatures()[0].name == "Ada Lovelace"


def test_an_open_petition_is_never_anonymised(app):
    with app.app_context():
        sign("ada@example.org", "Ada Lovelace")
        assert (
            retention.apply_retention(now=later(days=3650))["anonymised_signatures"]
            == 0
        )
        assert signatures()[0].name == "Ada Lovelace"


def test_zero_months_means_never(app_factory):
    app = app_factory(RETENTION_CLOSED_MONTHS=0)
    with app.app_context():
        sign("ada@example.org", "Ada Lovelace")
        close(months_ago=120)
        assert retention.apply_retention()["anonymised_signatures"] == 0
        assert signatures()[0].name == "Ada Lovelace"


def test_work_is_done_in_batches(app, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    commits = []
    with app.app_context():
        for _name, email, country, _comment in SIGNERS:
            sign(email, country=country)
        close(months_ago=7)
        original = db.session.commit
        monkeypatch.setattr(
            db.session, "commit", lambda: (commits.append(1), original())
        )
        before = figures()
        assert retention.apply_retention()["anonymised_signatures"] == len(SIGNERS)
        assert figures() == before
    # Two batches of two, and the run's own commits (start, end, key windows).
    assert len(commits) >= 2 + 3


def test_old_pending_signatures_are_deleted_with_their_consents(app):
    with app.app_context():
        kept = sign("ada@example.org", "Ada Lovelace")
        pending = sign("pat@example.org", "Pat Pending", confirm=False)
        broadcast = Broadcast(subject="News", body_markdown="Hello")
        db.session.add(broadcast)
        db.session.flush()
        db.session.add(Delivery(broadcast_id=broadcast.id, signature_id=pending))
        db.session.commit()
        count = figures()["count"]

        assert retention.apply_retention(now=later(days=29))["pending_signatures"] == 0
        counts = retention.apply_retention(now=later(days=31))

        assert counts["pending_signatures"] == 1
        assert [s.id for s in signatures()] == [kept]
        assert figures()["count"] == count
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    SignatureConsent.signature_id == pending
                )
            )
            == 0
        )
        assert db.session.scalar(sa.select(Delivery.signature_id)) is None


def test_a_signature_kept_as_fraudulent_goes_after_the_period_freeing_its_address(
    app,
):
    # A bot that passed the hard limit with someone else's address left a
    # fraudulent row: never counted, never emailed. Kept for ever, it would
    # name that person and stop them signing the petition themselves.
    with app.app_context():
        petition = petitions.get_petition(SLUG)
        petitions.sign_petition(
            petition,
            name="Bot",
            email="victim@example.org",
            country="GB",
            comment="spam",
            suspect=True,
        )
        [kept] = signatures()
        assert kept.state is SignatureState.FRAUDULENT
        count = figures()["count"]

        assert retention.apply_retention(now=later(days=29))["pending_signatures"] == 0
        counts = retention.apply_retention(now=later(days=31))

        assert counts["pending_signatures"] == 1
        assert signatures() == [] and figures()["count"] == count
        sign("victim@example.org", "The real owner")
        [theirs] = signatures()
        assert theirs.state is SignatureState.VALIDATED
        assert theirs.name == "The real owner"


def test_old_unconfirmed_subscribers_are_deleted_with_their_consents(app):
    with app.app_context():
        for email in ("pat@example.org", "sue@example.org"):
            mailing.join_list(email=email, source="join", wording="Join us")
        sue = mailing.get_subscriber("sue@example.org")
        sue.state = SubscriberState.SUBSCRIBED
        db.session.commit()

        counts = retention.apply_retention(now=later(days=31))

        assert counts["pending_subscribers"] == 1
        db.session.expire_all()
        emails = db.session.scalars(sa.select(Subscriber.email)).all()
        assert emails == ["sue@example.org"]
        owners = set(db.session.scalars(sa.select(Consent.subscriber_id)))
        assert owners == {sue.id}


def test_zero_days_keeps_pending_signatures(app_factory):
    app = app_factory(RETENTION_PENDING_DAYS=0)
    with app.app_context():
        sign("pat@example.org", confirm=False)
        assert (
            retention.apply_retention(now=later(days=3650))["pending_signatures"] == 0
        )
        assert len(signatures()) == 1


def add_donations() -> None:
    """A donation, an ended and a running monthly gift, all from Ada."""
    now = now_utc()
    db.session.add_all(
        [
            Donation(
                kind=DonationKind.ONE_OFF,
                state=DonationState.PAID,
                amount=2500,
                currency="gbp",
                email="ada@example.org",
                name="Ada Lovelace",
                payment_intent_id="pi_123",
                customer_id="cus_123",
                paid_at=now,
            ),
            MonthlyGift(
                subscription_id="sub_ended",
                state=GiftState.CANCELLED,
                amount=1000,
                email="ada@example.org",
                name="Ada Lovelace",
                cancelled_at=now,
            ),
            MonthlyGift(
                subscription_id="sub_running",
                state=GiftState.ACTIVE,
                amount=1000,
                email="ada@example.org",
                name="Ada Lovelace",
            ),
        ]
    )
    db.session.commit()


def test_donors_are_blanked_after_the_accounting_years(app):
    with app.app_context():
        add_donations()
        assert (
            retention.apply_retention(now=later(days=6 * 365))["blanked_donations"] == 0
        )
        counts = retention.apply_retention(now=later(days=7 * 366))
        assert counts["blanked_donations"] == 1
        assert counts["blanked_monthly_gifts"] == 1
        db.session.expire_all()
        donation = db.session.scalar(sa.select(Donation))
        assert (donation.name, donation.email) == (None, None)
        kept = (donation.amount, donation.currency, donation.kind, donation.state)
        assert kept == (2500, "gbp", DonationKind.ONE_OFF, DonationState.PAID)
        assert (donation.payment_intent_id, donation.customer_id) == (
            "pi_123",
            "cus_123",
        )
        assert donation.paid_at is not None
        gifts = {
            g.subscription_id: g for g in db.session.scalars(sa.select(MonthlyGift))
        }
        assert gifts["sub_ended"].email is None and gifts["sub_ended"].amount == 1000
        assert gifts["sub_running"].email == "ada@example.org"


def test_old_client_keys_are_cleared(app):
    with app.app_context():
        sign("ada@example.org")
        assert signatures()[0].ip_key
        assert retention.apply_retention(now=later(days=6))["cleared_client_keys"] == 0
        counts = retention.apply_retention(now=later(days=8))
        assert counts["cleared_client_keys"] == 1
        assert counts["forgotten_key_windows"] == 1
        assert signatures()[0].ip_key is None


def test_each_run_is_recorded_and_audited_with_its_counts(app):
    with app.app_context():
        sign("pat@example.org", confirm=False)
        counts = retention.apply_retention(now=later(days=31))
        run = db.session.scalar(sa.select(RetentionRun))
        assert run.counts == counts and run.finished_at >= run.started_at
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "retention")
        )
        assert "pending_signatures: 1" in entry.detail
        assert entry.rows == sum(counts.values()) and entry.organiser_id is None
        assert "pat@example.org" not in entry.detail


def test_the_command_counts_and_a_dry_run_changes_nothing(app, runner):
    with app.app_context():
        sign("pat@example.org", confirm=False)
        db.session.execute(
            sa.update(Signature).values(
                updated_at=datetime(2020, 1, 1, tzinfo=UTC),
                created_at=datetime(2020, 1, 1, tzinfo=UTC),
            )
        )
        db.session.commit()
    result = runner.invoke(args=["campaign", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "pending signatures: 1" in result.output and "Dry run" in result.output
    with app.app_context():
        assert len(signatures()) == 1
        assert db.session.scalar(sa.select(sa.func.count(RetentionRun.id))) == 0
    result = runner.invoke(args=["campaign", "retention"])
    assert "pending signatures: 1" in result.output
    with app.app_context():
        assert signatures() == []


def test_the_beat_runs_retention(app):
    schedule = app.config["CELERY"]["beat_schedule"]["apply-retention"]
    assert schedule == {
        "task": "campaign.retention.tasks.apply_retention",
        "schedule": 86400.0,
    }
    from campaign.retention.tasks import apply_retention

    with app.app_context():
        sign("pat@example.org", confirm=False)
        db.session.execute(
            sa.update(Signature).values(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
        )
        db.session.commit()
        # Eager in tests: the result is there (never .get(): an earlier test
        # that ran a worker in this process makes Celery refuse to block).
        result = apply_retention.delay()
        assert result.successful() and result.result["pending_signatures"] == 1


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 8, 31, tzinfo=UTC), 6, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 3, 15, tzinfo=UTC), 6, datetime(2025, 9, 15, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 12, datetime(2027, 2, 28, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months(moment, months, expected):
    assert retention.months_before(moment, months) == expected


def test_two_runs_at_once_change_each_row_once(app, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    with app.app_context():
        for _name, email, country, _comment in SIGNERS:
            sign(email, country=country)
        for n in range(6):
            sign(f"pending{n}@example.org", confirm=False)
        close(months_ago=7)
        before = figures()
    start = threading.Barrier(2)

    def run():
        with app.app_context():
            start.wait()
            return retention.apply_retention(now=later(days=31))

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: run(), range(2)))
    assert sum(r["pending_signatures"] for r in runs) == 6
    assert sum(r["anonymised_signatures"] for r in runs) == len(SIGNERS)
    with app.app_context():
        assert figures()["count"] == before["count"] == len(SIGNERS)
        assert all(s.name == "" for s in signatures()) and len(signatures()) == 4
        assert db.session.scalar(sa.select(sa.func.count(RetentionRun.id))) == 2
