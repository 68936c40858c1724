"""Static public pages: text and settings only, no data of any feature.

They live here rather than in the story blueprint because the story owns the
campaign's article and its content model; a statement about the whole site
(and later, say, an imprint) is about every feature at once.
"""

from email.utils import parseaddr

from flask import Blueprint, current_app, render_template

from campaign.http_cache import public_page

bp = Blueprint("pages", __name__)


def contact_address() -> str:
    """Where supporters report a problem: CONTACT_EMAIL, else the sender."""
    config = current_app.config
    return config["CONTACT_EMAIL"] or parseaddr(config["MAIL_DEFAULT_SENDER"])[1]


@bp.get("/accessibility")
@public_page
def accessibility():
    """The accessibility statement: the standard, how it is tested, the limits."""
    return render_template("pages/accessibility.html", contact=contact_address())


@bp.get("/privacy")
@public_page
def privacy():
    """The privacy page: what is kept, how long, who sees it, how to withdraw,
    every period read from the running configuration."""
    return render_template(
        "pages/privacy.html", contact=contact_address(), periods=retention_periods()
    )


def retention_periods() -> dict[str, int]:
    """The retention settings the privacy page states (0: never deleted)."""
    config = current_app.config
    return {
        name: config[name]
        for name in (
            "RETENTION_PENDING_DAYS",
            "RETENTION_CLOSED_MONTHS",
            "RETENTION_DONATION_YEARS",
            "CLIENT_KEY_HOURS",
            "CLIENT_KEY_KEEP_DAYS",
        )
    }
