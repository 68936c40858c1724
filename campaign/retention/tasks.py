"""Retention for the worker: the beat applies the periods every RETENTION_INTERVAL."""

from celery import shared_task

from campaign.retention.services import apply_retention as apply_periods


@shared_task
def apply_retention() -> dict:
    """Delete and anonymise what the retention periods say is due."""
    return apply_periods()
