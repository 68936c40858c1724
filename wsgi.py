"""The checkout's entry point (``wsgi:app``, ``wsgi:celery``): campaign.wsgi's."""

from campaign.wsgi import __getattr__, app  # noqa: F401
