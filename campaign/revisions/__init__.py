"""Content history: every saved version of a story or petition, by whom, and
what changed (models.py the rows, services.py recording and comparing,
views.py the organiser pages). Record a version with ``record_revision`` in
the same unit of work as the save."""

from campaign.revisions.models import ContentRevision
from campaign.revisions.services import (
    FieldChange,
    compare,
    get_revision,
    record_revision,
    revisions_of,
    start_history,
)

__all__ = [
    "ContentRevision",
    "FieldChange",
    "compare",
    "get_revision",
    "record_revision",
    "revisions_of",
    "start_history",
]
