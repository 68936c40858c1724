"""``GET /healthz``: 200 when the database and queue answer, else 503."""

from flask import Blueprint, jsonify

from campaign.health.services import database_ok, queue_ok

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report database and queue reachability."""
    checks = {"database": database_ok(), "queue": queue_ok()}
    body = {name: "ok" if ok else "unreachable" for name, ok in checks.items()}
    response = jsonify(body)
    response.status_code = 200 if all(checks.values()) else 503
    response.cache_control.no_store = True
    return response
