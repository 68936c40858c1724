"""The petition PDF handed to decision-makers: made with WeasyPrint, at once
for small petitions, by a worker for large ones.

What it holds: the petition's title, text and decision-maker, the confirmed
count and the day it was counted, then the confirmed signers' names and
countries, oldest first, on numbered A4 pages.

Who is named: only confirmed signers who ticked "Show my first name,
country and comment on this page", whose name no moderator hid, and whose
name retention has not deleted (a petition closed long enough,
campaign/retention/services.py). The others are counted, not named: the PDF
says how many confirmed signers chose not to be named and how many lost
their names to retention, so the count printed is the whole confirmed
count. A signer who kept their name off the public page never finds it in a
document that leaves our hands.

Right-to-left names: each name is isolated (``<bdi>``) with its direction
set from its first strong letter (what ``dir="auto"`` does), so a Dari or
Pashto name keeps its order inside a left-to-right list and the reverse.
Only fonts on the machine are used, never web fonts: DejaVu Sans for Latin
and Arabic script, and Debian's Scheherazade for the one Pashto letter
DejaVu lacks (yeh with tail, ۍ); .ci/run installs both with Pango.

Up to PDF_INLINE_MAX_SIGNERS confirmed signers the PDF is made in the
request and downloaded; above it a ``PetitionPdf`` row is queued, a worker
fills it with the bytes (so every app machine can hand it over), the
organiser watches a progress page, and rows older than PDF_KEEP_SECONDS are
deleted. Each PDF made is audited ("pdf-signatures", rows = names printed).

Large petitions are made in parts: the names are read and laid out
PDF_CHUNK_NAMES at a time (2,000), each part a separate WeasyPrint document
(the first with the title, text and count, the others only names, numbered
on), joined with pypdf, then every page is stamped with "Page X of Y" from a
document of empty pages with the same footer. A worker's memory is then one
part's layout plus the joined file, whatever the petition's size, and the
progress page says how many names are laid out. Each part's last page may be
part empty. The names sit two to a row in a fixed-layout table, which
WeasyPrint lays out 2.4 times faster than the two-column list it replaced.

Measured on the shared 2-core machine (bench/pdf.py: a fresh process,
6 in 7 signers named, CPU time and peak resident memory):

    signers   before (one document,        after (parts of 2,000,
              two-column list)             fixed table)
    1,000     9 pages, 4 s, 193 MB         9 pages, 3 s, 193 MB
    10,000    78 pages, 43 s, 679 MB       79 pages, 23 s, 270 MB
    50,000    391 pages, 360 s, 2.9 GB     387 pages, 103 s, 305 MB

(parts alone, with the two-column list: 10,000 in 33 s and 295 MB, 50,000
in 169 s and 435 MB.)
"""

import secrets
import unicodedata
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from campaign.audit import record
from campaign.extensions import db
from campaign.i18n import language_tag
from campaign.i18n.numbers import format_date
from campaign.models import now_utc
from campaign.petition.models import (
    PdfState,
    Petition,
    PetitionPdf,
    Signature,
    SignatureState,
    not_anonymised,
)
from campaign.petition.services import confirmed_count, petition_translation

# Counter styles (CSS Counter Styles 3) for page and list numbers, by the
# digits the locale writes (campaign/i18n/numbers.py).
COUNTER_STYLES = {"arabext": "persian", "arab": "arabic-indic"}


def named() -> list:
    """Conditions for a confirmed signer the PDF names."""
    return [
        Signature.state == SignatureState.VALIDATED,
        Signature.public.is_(True),
        Signature.name_hidden.is_(False),
        not_anonymised(),  # public before retention, and now without a name
    ]


def signers(petition: Petition, after: tuple | None = None, limit: int | None = None):
    """Names and countries of the signers the PDF names, oldest first, from
    just after the signer ``after`` (its validated_at and id), at most ``limit``."""
    query = sa.select(
        Signature.name, Signature.country, Signature.validated_at, Signature.id
    ).where(Signature.petition_id == petition.id, *named())
    if after is not None:
        when, last_id = after
        query = query.where(
            sa.or_(
                Signature.validated_at > when,
                sa.and_(Signature.validated_at == when, Signature.id > last_id),
            )
        )
    query = query.order_by(Signature.validated_at, Signature.id).limit(limit)
    return db.session.execute(query).all()


def named_count(petition: Petition) -> int:
    """How many signers the PDF names."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(Signature.petition_id == petition.id, *named())
    )


def anonymised_count(petition: Petition) -> int:
    """How many confirmed signers retention left without a name (counted,
    never named: on the PDF and the printable list alike)."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Signature.petition_id == petition.id,
            Signature.state == SignatureState.VALIDATED,
            sa.not_(not_anonymised()),
        )
    )


def direction(text: str) -> str:
    """ "rtl" or "ltr" from the first strong letter, as ``dir="auto"`` decides."""
    for letter in text:
        kind = unicodedata.bidirectional(letter)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def page_numbers(counter_style: str) -> str:
    """The CSS ``content`` of the page footer: "Page 3 of 12", translated."""
    words = _("Page %(page)s of %(pages)s", page="\0page\0", pages="\0pages\0")
    parts = []
    for piece in words.split("\0"):
        if piece in ("page", "pages"):
            parts.append(f"counter({piece}, {counter_style})")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def inline(petition: Petition) -> bool:
    """Whether the petition is small enough to make its PDF in the request."""
    return confirmed_count(petition.id) <= current_app.config["PDF_INLINE_MAX_SIGNERS"]


def render_pdf(
    petition: Petition, locale: str, progress=None
) -> tuple[bytes, int, int]:
    """The PDF in ``locale``, with how many signers it names and leaves unnamed.

    The names are laid out PDF_CHUNK_NAMES at a time, each part a separate
    WeasyPrint document, and the parts joined (pypdf); ``progress(done,
    total)`` is called after each part. With more than one part, the page
    numbers are stamped on the joined pages at the end."""
    from weasyprint import HTML  # a large import, needed only here

    size = max(current_app.config["PDF_CHUNK_NAMES"], 1)
    with force_locale(locale):
        count = confirmed_count(petition.id)
        names = named_count(petition)
        deleted = anonymised_count(petition)
        digits = get_locale().default_numbering_system
        counter_style = COUNTER_STYLES.get(digits, "decimal")
        numbers = page_numbers(counter_style)
        page = {
            "lang": language_tag(get_locale()),
            "page_dir": "rtl"
            if get_locale().character_order == "right-to-left"
            else "ltr",
        }
        template = current_app.jinja_env.get_template("petition/organiser/pdf.html")
        common = dict(
            page,
            petition=petition_translation(petition.id, locale) or petition,
            count=count,
            unnamed=max(count - names - deleted, 0),  # by their choice, or hidden
            deleted=deleted,
            counted_on=format_date(now_utc(), "long"),
            direction=direction,
            counter_style=counter_style,
        )
        parts, done, after = [], 0, None
        while True:
            rows = signers(petition, after, size)
            first = not parts
            whole = first and len(rows) < size  # one part: numbered as it is laid out
            html = template.render(
                common,
                first=first,
                named=len(rows),
                start=done + 1,
                signers=[(name, country) for name, country, *_ in rows],
                page_numbers=numbers if whole else "",
            )
            if first or rows:
                parts.append(HTML(string=html).write_pdf())
            done += len(rows)
            if progress and rows:
                progress(done, names)
            if whole:
                return parts[0], done, max(count - done, 0)
            if len(rows) < size:
                break
            after = (rows[-1].validated_at, rows[-1].id)
        pages = current_app.jinja_env.get_template("petition/organiser/pdf_pages.html")
        return (
            _joined(parts, pages, dict(page, page_numbers=numbers), HTML),
            done,
            max(count - done, 0),
        )


def _joined(parts: list[bytes], pages_template, page: dict, html_class) -> bytes:
    """The parts as one PDF, each page stamped with "Page X of Y"."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    parts.clear()
    total = len(writer.pages)
    footers = PdfReader(
        io.BytesIO(
            html_class(string=pages_template.render(page, pages=total)).write_pdf()
        )
    )
    for sheet, footer in zip(writer.pages, footers.pages, strict=True):
        sheet.merge_page(footer)
        sheet.compress_content_streams()
    writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _audit(petition: Petition, organiser, how: str, names: int, unnamed: int):
    """Record a PDF made (in the caller's unit of work)."""
    detail = f"{petition.slug}: {how}, {unnamed} not named"
    record(organiser, "pdf-signatures", detail, names)


def make_now(petition: Petition, organiser, locale: str) -> bytes:
    """The PDF, made in the request, audited."""
    content, names, unnamed = render_pdf(petition, locale)
    _audit(petition, organiser, "web", names, unnamed)
    db.session.commit()
    return content


def start_job(petition: Petition, organiser, locale: str) -> PetitionPdf:
    """Queue a PDF for a worker to make; the caller hands it to the queue."""
    forget_old_pdfs()
    job = PetitionPdf(
        key=secrets.token_urlsafe(16),
        petition_id=petition.id,
        organiser_id=organiser.id if organiser else None,
        locale=locale,
    )
    db.session.add(job)
    db.session.commit()
    return job


def run_job(job_id: int) -> bool:
    """Make a queued PDF and store it; False if another run took it first
    or making it failed (the job then says so)."""
    claimed = db.session.execute(
        sa.update(PetitionPdf)
        .where(PetitionPdf.id == job_id, PetitionPdf.state == PdfState.QUEUED)
        .values(state=PdfState.WORKING)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return False
    job = db.session.get(PetitionPdf, job_id)

    def progress(done: int, total: int):
        """Tell the progress page how many names are laid out."""
        job.progress, job.signers = done, total
        db.session.commit()

    try:
        content, names, unnamed = render_pdf(job.petition, job.locale, progress)
    except Exception:  # the progress page says so and offers to try again
        current_app.logger.exception("The PDF of petition %s failed", job.petition_id)
        db.session.rollback()
        job.state, job.finished_at = PdfState.FAILED, now_utc()
        db.session.commit()
        return False
    job.content, job.signers = content, names
    job.state, job.finished_at = PdfState.DONE, now_utc()
    _audit(job.petition, job.organiser, "background", names, unnamed)
    db.session.commit()
    return True


def queued_ids() -> list[int]:
    """Jobs still waiting (the queue may have been down when they were made)."""
    return list(
        db.session.scalars(
            sa.select(PetitionPdf.id).where(PetitionPdf.state == PdfState.QUEUED)
        )
    )


def get_job(key: str) -> PetitionPdf | None:
    """A PDF job by its key, unless it is past keeping."""
    return db.session.scalar(
        sa.select(PetitionPdf).where(
            PetitionPdf.key == key, PetitionPdf.created_at >= _keep_since()
        )
    )


def job_content(job: PetitionPdf) -> bytes | None:
    """The stored PDF of a finished job."""
    return db.session.scalar(
        sa.select(PetitionPdf.content).where(PetitionPdf.id == job.id)
    )


def _keep_since():
    """The oldest a stored PDF may be."""
    return now_utc() - timedelta(seconds=current_app.config["PDF_KEEP_SECONDS"])


def forget_old_pdfs() -> int:
    """Delete stored PDFs past keeping; return how many."""
    gone = db.session.execute(
        sa.delete(PetitionPdf).where(PetitionPdf.created_at < _keep_since())
    ).rowcount
    db.session.commit()
    return gone
