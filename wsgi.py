"""WSGI entry point: ``gunicorn wsgi:app``; worker: ``celery -A wsgi:celery worker``."""

from campaign import create_app

app = create_app()
celery = app.extensions["celery"]
