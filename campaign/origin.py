"""Cross-site protection for public anonymous forms: Origin and Sec-Fetch-Site.

The sign, join, donate and preferences forms are posted by visitors without a
session, from pages a proxy or CDN may cache for everyone, so they cannot
carry a per-session CSRF token. Instead the browser tells us where a POST
came from: ``Sec-Fetch-Site`` (Chrome 76, Firefox 90, Safari 16.4) and
``Origin`` (on every POST in current browsers) are forbidden headers that a
page cannot set or forge. The rule is the one Go 1.25's
``http.CrossOriginProtection`` applies; the README's security notes explain it.
Organiser pages keep Flask-WTF's session-bound tokens.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import _

from campaign.errors import render_error
from campaign.extensions import csrf

# Sec-Fetch-Site values a public form accepts: our own pages, and a request
# the visitor started themselves (a bookmark, the address bar). "same-site"
# (a sibling subdomain, perhaps someone else's) and "cross-site" are refused.
ACCEPTED_FETCH_SITES = {"same-origin", "none"}


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def our_origins() -> set[str]:
    """The origins our own pages are served from: BASE_URL's and this request's.

    The request's own (its Host, behind ProxyFix the proxy's X-Forwarded-Host)
    covers a site reached by more than one name; a browser sets Host to the
    site it is talking to, so an attacker's page cannot choose it for a victim.
    """
    return {_origin(current_app.config["BASE_URL"]), _origin(request.host_url)}


def is_cross_site() -> bool:
    """Whether the browser says this request was sent by another site's page."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.lower() not in ACCEPTED_FETCH_SITES
    origin = request.headers.get("Origin")
    if origin is not None:
        # "null" (a sandboxed frame, a file: page) is not ours either.
        return origin.lower() not in our_origins()
    # Neither header: not a browser that runs another site's page today (every
    # current browser sends Origin on a cross-origin POST), or one too old to;
    # such a client carries no victim's session to abuse on these forms.
    return False


def refuse() -> tuple:
    """The error page for a form sent from another site; nothing is stored."""
    return render_error(
        403,
        _(
            "This form was sent from another website, so we did not accept it. "
            "Nothing was saved. Open this site's own page and send the form "
            "from there."
        ),
    )


def same_origin_form(view):
    """Accept POSTs to ``view`` only from our own pages, without a CSRF token.

    GET and HEAD pass: they change nothing. The view is exempt from
    CSRFProtect, so the cached public page needs no session to hold a token.
    """

    @wraps(view)
    def checked(*args, **kwargs):
        if request.method not in ("GET", "HEAD", "OPTIONS") and is_cross_site():
            return refuse()
        return view(*args, **kwargs)

    return csrf.exempt(checked)
