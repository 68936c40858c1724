"""Measure the petition PDF (campaign/petition/delivery.py): CPU time and
peak memory of a fresh process that makes it for N signers, 6 in 7 named,
one in ten writing in Dari. Run by hand, never part of ``make test``:

    .venv/bin/python bench/pdf.py 1000 10000 50000
"""

import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path


def child(count: int, db_path: str, background: bool) -> None:
    """Seed ``count`` signers, then make the PDF and print the figures."""
    import sqlalchemy as sa

    from campaign import create_app
    from campaign.cli import seed_content
    from campaign.encryption import domain_hash, email_hash
    from campaign.extensions import db
    from campaign.models import now_utc
    from campaign.petition import delivery
    from campaign.petition.models import (
        Petition,
        PetitionPdf,
        Signature,
        SignatureState,
    )
    from campaign.petition.services import add_to_count

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "MAIL_BACKEND": "file"}
    )
    with app.app_context():
        db.create_all()
        seed_content()
        petition = db.session.scalars(sa.select(Petition)).first()
        start = now_utc()
        rows = [
            {
                "petition_id": petition.id,
                "name": f"فرشته احمدی {i}" if i % 10 == 3 else f"Signer Number {i}",
                "email": f"s{i}@example.org",
                "email_hash": email_hash(f"s{i}@example.org"),
                "domain_key": domain_hash(f"s{i}@example.org"),
                "country": "AF" if i % 10 == 3 else "GB",
                "public": i % 7 != 0,
                "state": SignatureState.VALIDATED,
                "validated_at": start + timedelta(seconds=i),
            }
            for i in range(count)
        ]
        db.session.execute(sa.insert(Signature), rows)
        add_to_count(petition.id, count)
        db.session.commit()
        before = resource.getrusage(resource.RUSAGE_SELF)
        clock = time.monotonic()
        if background:
            job = delivery.start_job(petition, None, "en")
            delivery.run_job(job.id)
            content = delivery.job_content(db.session.get(PetitionPdf, job.id))
        else:
            content = delivery.render_pdf(petition, "en")[0]
        after = resource.getrusage(resource.RUSAGE_SELF)
        import io

        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(content)).pages)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        f"{count} signers: {pages} pages, {len(content) / 1e6:.1f} MB,"
        f" {cpu:.0f} s CPU, {time.monotonic() - clock:.0f} s wall,"
        f" peak {after.ru_maxrss / 1024:.0f} MB",
        flush=True,
    )


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3], sys.argv[4] == "background")
    else:
        how = "background"
        for arg in sys.argv[1:]:
            if arg in ("background", "inline"):
                how = arg
                continue
            with tempfile.TemporaryDirectory() as tmp:
                db_file = str(Path(tmp) / "bench.db")
                subprocess.run(
                    [sys.executable, __file__, "--child", arg, db_file, how], check=True
                )
