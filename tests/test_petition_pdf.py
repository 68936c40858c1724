"""The petition PDF for decision-makers: its content, the background path
with its progress page, the audit log, and who may have it."""

import io
import re
import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from kombu.exceptions import OperationalError as QueueUnavailable
from pypdf import PdfReader

from campaign.audit import AuditEntry
from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.models import now_utc
from campaign.organiser.services import find_organiser
from campaign.permissions import Role
from campaign.petition import delivery
from campaign.petition.models import (
    PdfState,
    PetitionPdf,
    Signature,
    SignatureState,
)
from campaign.petition.services import add_to_count, get_petition
from campaign.petition.tasks import sweep_petition_pdfs
from campaign.retention import services as retention
from tests.helpers import SLUG, sign, submit
from tests.test_care import sign_and_confirm, signed_in
from tests.test_retention import close

PDF = f"/organiser/petitions/{SLUG}/signatures.pdf"
DARI_NAME = "فرشته احمدی"


def pdf_text(content: bytes) -> str:
    """The text of every page, as a reader (or a screen reader) gets it."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    # Arabic script comes out in its shaped forms: back to plain letters.
    return unicodedata.normalize("NFKC", text)


def audit_entries(app, action="pdf-signatures") -> list[tuple[str, int]]:
    """The audit log's PDF entries: detail and rows."""
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
        )
        return [(e.detail, e.rows, e.organiser.email) for e in entries]


def signers(app, inbox) -> None:
    """Two named signers (one writing in Dari), one who chose not to be
    shown, one still pending."""
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    sign_and_confirm(app, inbox, "f@example.org", name=DARI_NAME, public="y")
    sign_and_confirm(app, inbox, "grace@example.org", name="Grace Hopper")
    sign(app.test_client(), name="Pending Person", email="p@example.org")


def test_the_pdf_names_who_chose_to_be_shown_and_counts_everyone(app, inbox):
    signers(app, inbox)
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    response = staff.get(PDF)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    with app.app_context():
        title = get_petition(SLUG).title
    assert title in " ".join(text.split())
    assert "3 people signed this petition, each confirmed by email" in text
    assert "1 of them chose not to be named in public" in text
    assert "Ada Lovelace" in text and "United Kingdom" in text
    assert "Grace Hopper" not in text  # counted, not named
    assert "Pending Person" not in text and "ada@example.org" not in text
    assert "Page 1 of" in text
    assert audit_entries(app) == [(f"{SLUG}: web, 1 not named", 2, "staff@example.org")]


def anonymise(app, *emails: str) -> None:
    """Blank these signers as retention does, part-way through a petition."""
    with app.app_context():
        db.session.execute(
            sa.update(Signature)
            .where(Signature.email_hash.in_([email_hash(e) for e in emails]))
            .values(retention.anonymised())
        )
        db.session.commit()


def test_signers_anonymised_by_retention_are_counted_not_named(app, inbox):
    signers(app, inbox)
    with app.app_context():
        close(months_ago=7)
        assert retention.apply_retention()["anonymised_signatures"] == 4
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    text = " ".join(pdf_text(staff.get(PDF).data).split())
    assert "3 people signed this petition, each confirmed by email" in text
    assert (
        "3 of them are counted, not listed: their names were deleted after the "
        "petition closed, to protect their privacy." in text
    )
    assert "chose not to be named" not in text
    assert "United Kingdom" not in text and "<bdi" not in delivery_html(app)
    assert audit_entries(app) == [(f"{SLUG}: web, 3 not named", 0, "staff@example.org")]


def test_part_way_through_retention_the_pdf_still_adds_up(app, inbox):
    signers(app, inbox)
    anonymise(app, "ada@example.org")
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    text = " ".join(pdf_text(staff.get(PDF).data).split())
    assert "3 people signed this petition, each confirmed by email" in text
    assert "1 of them chose not to be named in public" in text  # Grace
    assert "1 of them is counted, not listed: their name was deleted" in text
    assert "Ada Lovelace" not in text
    assert delivery_html(app).count("<bdi") == 1  # the Dari name, no empty row
    assert audit_entries(app) == [(f"{SLUG}: web, 2 not named", 1, "staff@example.org")]


def test_a_dari_name_keeps_its_letters_and_direction(app, inbox):
    sign_and_confirm(app, inbox, "f@example.org", name=DARI_NAME, public="y")
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    text = pdf_text(staff.get(PDF).data)
    # Extracted in visual order (right to left reversed) or logical order:
    # either way every letter of the name is there, in one run.
    assert DARI_NAME in text or DARI_NAME[::-1] in text
    html = delivery_html(app)
    assert f'<bdi dir="rtl">{DARI_NAME}</bdi>' in html


def delivery_html(app) -> str:
    """The PDF's HTML for the seeded petition, as WeasyPrint is given it."""
    captured = {}

    class Capture:
        def __init__(self, string):
            captured["html"] = string

        def write_pdf(self):
            return b"%PDF-"

    import weasyprint

    original = weasyprint.HTML
    weasyprint.HTML = Capture
    try:
        with app.app_context():
            delivery.render_pdf(get_petition(SLUG), "en")
    finally:
        weasyprint.HTML = original
    return captured["html"]


def test_the_pdf_in_dari_reads_right_to_left_with_its_own_digits(app, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    response = staff.get(f"/fa{PDF}")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "Ada Lovelace" in text
    assert "۱" in text  # the count and page numbers in Dari digits


def test_large_petitions_get_their_pdf_from_a_worker(app_factory, inbox):
    app = app_factory(PDF_INLINE_MAX_SIGNERS=1)
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    sign_and_confirm(app, inbox, "f@example.org", name=DARI_NAME, public="y")
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    offer = staff.get(PDF)
    assert offer.status_code == 200 and offer.mimetype == "text/html"
    assert "Make the PDF" in offer.get_data(as_text=True)
    assert audit_entries(app) == []  # a GET makes nothing
    # The test worker runs tasks as they are queued (CELERY_TASK_ALWAYS_EAGER).
    started = submit(staff, PDF)
    assert started.status_code == 302
    progress_url = started.headers["Location"]
    assert re.fullmatch(r"/organiser/pdfs/[\w-]+", progress_url)
    progress = staff.get(progress_url).get_data(as_text=True)
    assert "The PDF is ready: 2 signers named." in progress
    assert 'http-equiv="refresh"' not in progress  # done: no more refreshing
    download = staff.get(f"{progress_url}/download")
    assert download.mimetype == "application/pdf"
    assert "Ada Lovelace" in pdf_text(download.data)
    assert audit_entries(app) == [
        (f"{SLUG}: background, 0 not named", 2, "staff@example.org")
    ]


def test_the_progress_page_refreshes_itself_until_the_pdf_is_ready(app, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    with app.app_context():
        job = delivery.start_job(
            get_petition(SLUG), find_organiser("staff@example.org"), "en"
        )
        key = job.key
    waiting = staff.get(f"/organiser/pdfs/{key}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in waiting
    assert "Waiting for a worker" in waiting and "Stop refreshing this page" in waiting
    # Whoever finds the refreshing in the way turns it off (WCAG 2.2.1).
    still = staff.get(f"/organiser/pdfs/{key}?refresh=off").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in still and "Check again" in still
    # Not ready: the download link leads back to the progress page.
    early = staff.get(f"/organiser/pdfs/{key}/download")
    assert early.status_code == 302 and early.headers["Location"].endswith(key)
    with app.app_context():
        assert sweep_petition_pdfs() == 1  # the beat makes what the queue missed
    done = staff.get(f"/organiser/pdfs/{key}").get_data(as_text=True)
    assert "Download the PDF" in done and 'http-equiv="refresh"' not in done


def test_with_the_queue_down_the_pdf_waits_for_the_beat(
    app_factory, inbox, monkeypatch
):
    app = app_factory(PDF_INLINE_MAX_SIGNERS=0)
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    staff = signed_in(app, "staff@example.org", Role.STAFF)

    def unreachable(task, *args):
        raise QueueUnavailable("Connection refused")

    monkeypatch.setattr("campaign.petition.organiser_views.delay", unreachable)
    started = submit(staff, PDF, f"/organiser/petitions/{SLUG}")
    assert started.status_code == 302
    page = staff.get(started.headers["Location"]).get_data(as_text=True)
    assert "The task queue is unreachable" in page
    assert "Waiting for a worker" in page
    with app.app_context():
        sweep_petition_pdfs()
    later = staff.get(started.headers["Location"]).get_data(as_text=True)
    assert "Download the PDF" in later


def test_stored_pdfs_are_deleted_after_a_day(app, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    with app.app_context():
        job = delivery.start_job(get_petition(SLUG), None, "en")
        delivery.run_job(job.id)
        job.created_at = now_utc() - timedelta(days=1, seconds=1)
        db.session.commit()
        key = job.key
    assert staff.get(f"/organiser/pdfs/{key}").status_code == 404
    with app.app_context():
        sweep_petition_pdfs()
        assert db.session.scalar(sa.select(sa.func.count(PetitionPdf.id))) == 0


def test_only_organisers_get_the_pdf(app, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    with app.app_context():
        job = delivery.start_job(get_petition(SLUG), None, "en")
        delivery.run_job(job.id)
        assert job.state is PdfState.DONE
        key = job.key
    visitor = app.test_client()
    for path in (PDF, f"/organiser/pdfs/{key}", f"/organiser/pdfs/{key}/download"):
        response = visitor.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/organiser/login")
        assert b"%PDF" not in response.data
    assert visitor.post(PDF).status_code in (302, 400)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PetitionPdf.id))) == 1


def test_a_failed_pdf_says_so_and_offers_to_try_again(app_factory, inbox, monkeypatch):
    app = app_factory(PDF_INLINE_MAX_SIGNERS=0)
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    staff = signed_in(app, "staff@example.org", Role.STAFF)

    def broken(*args):
        raise OSError("no room left on the device")

    monkeypatch.setattr(delivery, "render_pdf", broken)
    started = submit(staff, PDF, f"/organiser/petitions/{SLUG}")
    assert started.status_code == 302
    page = staff.get(started.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Making the PDF failed." in html
    assert "Try again" in html and 'http-equiv="refresh"' not in html
    assert audit_entries(app) == []  # nothing went out


def test_erasing_a_supporter_deletes_the_stored_pdfs_naming_them(app, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    with app.app_context():
        job = delivery.start_job(get_petition(SLUG), None, "en")
        delivery.run_job(job.id)
    admin = signed_in(app, "admin@example.org", Role.ADMIN)
    erased = submit(
        admin,
        "/organiser/supporters/erase",
        "/organiser/supporters",
        email="ada@example.org",
    )
    assert erased.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PetitionPdf.id))) == 0


def many_signers(app, count: int) -> list[str]:
    """``count`` confirmed, named signers (every tenth writing in Dari),
    oldest first; their names."""
    start = now_utc() - timedelta(days=1)
    names = [
        f"{DARI_NAME} {i}" if i % 10 == 3 else f"Signer Number {i:03d}"
        for i in range(count)
    ]
    with app.app_context():
        petition = get_petition(SLUG)
        db.session.execute(
            sa.insert(Signature),
            [
                {
                    "petition_id": petition.id,
                    "name": name,
                    "email": f"s{i}@example.org",
                    "email_hash": email_hash(f"s{i}@example.org"),
                    "country": "GB",
                    "public": True,
                    "state": SignatureState.VALIDATED,
                    # Some signers confirmed in the same instant: the id orders them.
                    "validated_at": start + timedelta(seconds=i // 3),
                }
                for i, name in enumerate(names)
            ],
        )
        add_to_count(petition.id, count)
        db.session.commit()
    return names


def test_a_large_pdf_made_in_parts_names_everyone_once_on_numbered_pages(
    app_factory, inbox, monkeypatch
):
    app = app_factory(PDF_INLINE_MAX_SIGNERS=0, PDF_CHUNK_NAMES=50)
    names = many_signers(app, 180)
    seen = []
    real_progress = delivery.render_pdf

    def watched(petition, locale, progress):
        def report(done, total):
            seen.append((done, total))
            progress(done, total)

        return real_progress(petition, locale, report)

    monkeypatch.setattr(delivery, "render_pdf", watched)
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    started = submit(staff, PDF, f"/organiser/petitions/{SLUG}")
    assert seen == [(50, 180), (100, 180), (150, 180), (180, 180)]
    progress = staff.get(started.headers["Location"]).get_data(as_text=True)
    assert "The PDF is ready: 180 signers named." in progress
    content = staff.get(f"{started.headers['Location']}/download").data
    reader = PdfReader(io.BytesIO(content))
    pages = [unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages]
    total = len(pages)
    assert total > 4  # one part alone would be one or two pages
    for number, text in enumerate(pages, 1):
        assert text.count(f"Page {number} of {total}") == 1, number
    text = "\n".join(pages)
    # The title, text and count once, at the start.
    assert text.count("180 people signed this petition") == 1
    assert "180 people signed" in pages[0]
    for name in names:
        if name.startswith("Signer"):
            assert text.count(name) == 1, name
    assert text.count(DARI_NAME) + text.count(DARI_NAME[::-1]) == 18
    # In order, and numbered on across the parts.
    latin = [n for n in names if n.startswith("Signer")]
    assert [text.index(n) for n in latin] == sorted(text.index(n) for n in latin)
    numbers = [int(m) for m in re.findall(r"(?<!\d)(\d+)\. ", text)]
    assert sorted(numbers) == list(range(1, 181))


def test_the_progress_page_says_how_many_names_are_laid_out(app, inbox):
    sign_and_confirm(app, inbox, "ada@example.org", public="y")
    staff = signed_in(app, "staff@example.org", Role.STAFF)
    with app.app_context():
        job = delivery.start_job(get_petition(SLUG), None, "en")
        job.state, job.progress, job.signers = PdfState.WORKING, 4000, 50000
        db.session.commit()
        key = job.key
    page = staff.get(f"/organiser/pdfs/{key}").get_data(as_text=True)
    assert "4,000 of 50,000 names laid out so far." in page
