"""Fingerprinted static URLs (``?v=`` a hash of the file) cached for a year."""

import hashlib
from pathlib import Path

from flask import Flask, request

from campaign.extensions import compress

# A fingerprinted URL names one version of a file for ever: caches may keep it.
IMMUTABLE = "public, max-age=31536000, immutable"


def fingerprints(folder: str) -> dict[str, str]:
    """Every static file's path (as url_for names it) and a short content hash."""
    root = Path(folder)
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()[:12]
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def register(app: Flask) -> None:
    """Add ``?v=`` to static URLs, and far-future caching to the answers."""
    # Hashed once at start-up: the files change only with a deploy (restart).
    versions = fingerprints(app.static_folder)

    @app.url_defaults
    def fingerprint(endpoint: str, values: dict) -> None:
        """``url_for('static', filename=...)`` names the file's current version."""
        if endpoint == "static" and "v" not in values:
            version = versions.get(values.get("filename", ""))
            if version:
                values["v"] = version

    @app.after_request
    def far_future(response):
        """A year for the current version; an old or missing ``v`` is revalidated."""
        if request.endpoint != "static":
            return response
        # Flask-Compress swaps a file's stream for a compressing generator
        # and drops the file's close(): keep it with the response.
        close = getattr(response.response, "close", None)
        if close is not None:
            response.call_on_close(close)
        if response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") == versions.get(filename):
                response.headers["Cache-Control"] = IMMUTABLE
        return compress.after_request(response)
