"""Entry point: ``gunicorn campaign.wsgi:app``, ``celery -A campaign.wsgi:celery``."""

from campaign import create_app
from campaign.tasks import celery_app

app = create_app()


def __getattr__(name: str):
    """``campaign.wsgi:celery`` for workers, built only when asked for (PEP 562)."""
    if name == "celery":
        return celery_app(app)
    raise AttributeError(name)
