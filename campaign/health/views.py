"""``GET /healthz``: 200 when every service answers, else 503 naming the rest."""

from flask import Blueprint, current_app, jsonify

from campaign.health.services import database_ok, queue_ok, redis_ok

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report database, queue and (when configured) Redis reachability."""
    checks = {"database": database_ok(), "queue": queue_ok()}
    if redis_url := current_app.config.get("REDIS_URL"):
        checks["redis"] = redis_ok(redis_url)
    body = {name: "ok" if ok else "unreachable" for name, ok in checks.items()}
    response = jsonify(body)
    response.status_code = 200 if all(checks.values()) else 503
    response.cache_control.no_store = True
    return response
