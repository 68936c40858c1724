"""Recording content versions and comparing each with the one before it.

A comparison is made of words, not characters: lines and sentences are
matched first (difflib), then the words of those that changed, so a
20,000-character text compares in milliseconds and a changed word reads as
one change. A changed run too long to compare word by word (a rewrite) shows
as removed, then added.
"""

import difflib
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from campaign.extensions import db
from campaign.revisions.models import KINDS, ContentRevision, field_label

# Words, runs of spaces and single punctuation marks: the units compared.
TOKENS = re.compile(r"\w+|\s+|[^\w\s]")
# Lines and sentences (Latin, Arabic-script and Urdu full stops): the runs
# matched before words.
SEGMENTS = re.compile(r"[^\n.!?؟۔]*(?:[.!?؟۔]+[^\S\n]*|\n|$)")
# Past this many words on either side, a changed run is not compared word by
# word (difflib is quadratic there): it shows as removed, then added.
WORDS_COMPARED = 2000


def _checked(kind: str, fields: dict) -> dict[str, str]:
    """The fields as text, for a kind that keeps a history (else ValueError)."""
    if kind not in KINDS:
        raise ValueError(f"no history is kept for {kind!r}")
    return {name: "" if value is None else str(value) for name, value in fields.items()}


def record_revision(
    kind: str, object_id: int, locale: str, fields: dict[str, str], organiser
) -> ContentRevision:
    """Record one saved language version (in the caller's unit of work)."""
    revision = ContentRevision(
        kind=kind,
        object_id=object_id,
        locale=locale,
        fields=_checked(kind, fields),
        organiser_id=organiser.id if organiser else None,
    )
    db.session.add(revision)
    return revision


def start_history(
    kind: str, object_id: int, locale: str, fields: dict[str, str]
) -> ContentRevision | None:
    """Record the words as they stand before their first recorded save, so
    that save compares with something; nothing if a history exists."""
    query = sa.select(ContentRevision.id).filter_by(
        kind=kind, object_id=object_id, locale=locale
    )
    if db.session.scalar(query.limit(1)) is not None:
        return None
    revision = ContentRevision(
        kind=kind,
        object_id=object_id,
        locale=locale,
        fields=_checked(kind, fields),
        baseline=True,
    )
    db.session.add(revision)
    return revision


def revisions_of(kind: str, object_id: int) -> list[ContentRevision]:
    """Every recorded version of one story or petition, newest first."""
    query = (
        sa.select(ContentRevision)
        .filter_by(kind=kind, object_id=object_id)
        .order_by(ContentRevision.id.desc())
    )
    return list(db.session.scalars(query))


def get_revision(revision_id: int) -> ContentRevision | None:
    """One recorded version."""
    return db.session.get(ContentRevision, revision_id)


def previous_revision(revision: ContentRevision) -> ContentRevision | None:
    """The version saved before this one, of the same content and language."""
    query = (
        sa.select(ContentRevision)
        .filter_by(
            kind=revision.kind, object_id=revision.object_id, locale=revision.locale
        )
        .where(ContentRevision.id < revision.id)
        .order_by(ContentRevision.id.desc())
    )
    return db.session.scalars(query.limit(1)).first()


@dataclass
class HistoryEntry:
    """A version in the history list, with the fields it changed."""

    revision: ContentRevision
    changed: list[str]
    first: bool  # the first version kept of its language


def history(kind: str, object_id: int) -> list[HistoryEntry]:
    """The history list of one story or petition, newest first."""
    revisions = revisions_of(kind, object_id)
    entries, before = [], {}
    for revision in reversed(revisions):
        previous = before.get(revision.locale)
        entries.append(
            HistoryEntry(
                revision,
                changed_fields(previous, revision),
                first=previous is None,
            )
        )
        before[revision.locale] = revision
    return entries[::-1]


def changed_fields(
    previous: ContentRevision | None, revision: ContentRevision
) -> list[str]:
    """The labels of the fields that differ from the previous version (all of
    them for a first version)."""
    before = previous.fields if previous else {}
    names = _field_names(before, revision.fields)
    return [
        field_label(name)
        for name in names
        if before.get(name) != revision.fields.get(name) or previous is None
    ]


def _field_names(before: dict, after: dict) -> list[str]:
    """Every field of either version, in the newer one's order."""
    return [*after, *(name for name in before if name not in after)]


@dataclass
class Piece:
    """A run of text in a comparison: kept as it was, added, or removed."""

    op: str  # "same", "added" or "removed"
    text: str


@dataclass
class FieldChange:
    """One field compared with its previous version."""

    name: str
    label: str
    pieces: list[Piece] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was added or removed."""
        return any(piece.op != "same" for piece in self.pieces)


@dataclass
class Comparison:
    """A version beside the one before it, field by field."""

    revision: ContentRevision
    previous: ContentRevision | None
    fields: list[FieldChange]


def compare(revision: ContentRevision) -> Comparison:
    """Compare a version with the previous one of its content and language
    (a first version shows all its text as added)."""
    previous = previous_revision(revision)
    before = previous.fields if previous else {}
    changes = [
        FieldChange(
            name,
            field_label(name),
            diff_text(before.get(name, ""), revision.fields.get(name, "")),
        )
        for name in _field_names(before, revision.fields)
    ]
    return Comparison(revision, previous, changes)


def diff_text(old: str, new: str) -> list[Piece]:
    """What changed from ``old`` to ``new``: lines and sentences matched
    first, then the words of those that changed; neighbouring runs of one
    kind merged."""
    pieces: list[Piece] = []
    old_lines, new_lines = _segments(old), _segments(new)
    lines = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, a1, a2, b1, b2 in lines.get_opcodes():
        if op == "equal":
            _add(pieces, "same", "".join(old_lines[a1:a2]))
        else:
            _diff_words(pieces, "".join(old_lines[a1:a2]), "".join(new_lines[b1:b2]))
    return pieces


def _segments(text: str) -> list[str]:
    """A text cut after each line break and each sentence's end."""
    return [segment for segment in SEGMENTS.findall(text) if segment]


def _diff_words(pieces: list[Piece], old: str, new: str) -> None:
    """Append the word-by-word difference of two runs of lines."""
    old_words, new_words = TOKENS.findall(old), TOKENS.findall(new)
    if max(len(old_words), len(new_words)) > WORDS_COMPARED:
        _add(pieces, "removed", old)
        _add(pieces, "added", new)
        return
    words = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    for op, a1, a2, b1, b2 in words.get_opcodes():
        if op == "equal":
            _add(pieces, "same", "".join(old_words[a1:a2]))
            continue
        _add(pieces, "removed", "".join(old_words[a1:a2]))
        _add(pieces, "added", "".join(new_words[b1:b2]))


def _add(pieces: list[Piece], op: str, text: str) -> None:
    """Append a run, joined to the last one when it is of the same kind."""
    if not text:
        return
    if pieces and pieces[-1].op == op:
        pieces[-1].text += text
    else:
        pieces.append(Piece(op, text))
