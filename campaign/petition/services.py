"""Petition domain: signing, confirming, counting.

Each operation is one unit of work with one commit; a signer's email is marked
due in that commit and sent by the worker after it (see campaign/outbox.py).
"""

import functools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from campaign import slugs
from campaign.audit import record
from campaign.caching import remember
from campaign.encryption import domain_hash, email_hash
from campaign.extensions import cache, db
from campaign.http_cache import pages_changed
from campaign.localised import ORIGINAL, page_locale
from campaign.models import insert_for, now_utc
from campaign.petition.goals import GoalMode, shown_goal
from campaign.petition.models import (
    PETITION_WORDING,
    UPDATES_WORDING,
    ConsentPurpose,
    CounterShard,
    Notice,
    Petition,
    PetitionState,
    PetitionTranslation,
    Signature,
    SignatureConsent,
    SignatureState,
)
from campaign.petition.signals import signer_joined_list
from campaign.petition.tokens import InvalidLink, address_matches, signature_link
from campaign.revisions import record_revision, start_history
from campaign.text import first_name, render_markdown, shorten

# The most of a comment the petition page shows (comments may hold 500).
COMMENT_SHOWN = 280
# The words each language version of a petition has (English: the petition),
# each kept in its history (campaign/revisions) per save.
TEXT_FIELDS = ("title", "target", "body_markdown")


class SlugTaken(Exception):
    """Another petition has, or had, the slug an organiser chose."""

    def __init__(self, suggestion: str):
        """Remember a free slug to offer instead."""
        super().__init__(suggestion)
        self.suggestion = suggestion


class PetitionClosed(Exception):
    """The petition no longer takes signatures."""


@dataclass(frozen=True)
class PetitionRef:
    """What the hot paths need of a petition, small enough to cache."""

    id: int
    slug: str
    title: str
    goal: int
    is_open: bool
    is_public: bool = True  # a draft's is False: public pages answer 404
    goal_mode: GoalMode = GoalMode.FIXED

    def goal_at(self, count: int) -> int:
        """The goal shown beside ``count`` (petition/goals.py)."""
        return shown_goal(self.goal, self.goal_mode, count)


@dataclass(frozen=True)
class PublicPetition:
    """What the public pages show of a petition; it changes only when an
    organiser edits, so it is cached rather than read on every view.

    ``locale`` is the language of the words (a translation's, or "en");
    ``original_title`` the English title a translation links to.
    """

    id: int
    slug: str
    title: str
    target: str
    goal: int
    body_html: str
    is_open: bool
    story_id: int | None
    locale: str = ORIGINAL
    original_title: str = ""
    state: PetitionState = PetitionState.OPEN
    goal_mode: GoalMode = GoalMode.FIXED
    closed_at: datetime | None = None

    @property
    def is_translation(self) -> bool:
        """Whether the words are a translation rather than the English original."""
        return self.locale != ORIGINAL

    @property
    def is_public(self) -> bool:
        """Whether the public may read it (not a draft)."""
        return self.state.is_public

    def goal_at(self, count: int) -> int:
        """The goal shown beside ``count`` (petition/goals.py)."""
        return shown_goal(self.goal, self.goal_mode, count)

    @classmethod
    def of(
        cls, petition: Petition, translation: PetitionTranslation | None = None
    ) -> "PublicPetition":
        """The public facts of a loaded petition, in a translation's words."""
        text = translation or petition
        return cls(
            petition.id,
            petition.slug,
            text.title,
            text.target,
            petition.goal,
            text.body_html,
            petition.is_open,
            petition.story_id,
            translation.locale if translation else ORIGINAL,
            petition.title,
            petition.state,
            petition.goal_mode,
            petition.closed_at,
        )


@dataclass(frozen=True)
class PublicSigner:
    """What the public sees of a signer who chose to be shown."""

    first_name: str
    country: str
    comment: str | None = None


@functools.cache
def _insert_signature(dialect_name: str):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, built once per database."""
    table = Signature.__table__
    return (
        insert_for(table, dialect_name)
        .on_conflict_do_nothing(index_elements=["petition_id", "email_hash"])
        .returning(table.c.id)
    )


def sign_petition(
    petition: Petition | PetitionRef,
    *,
    name: str,
    email: str,
    country: str,
    comment: str | None = None,
    join_list: bool = False,
    wants_updates: bool = False,
    public: bool = False,
    ip_key: str | None = None,
    locale: str = "en",
    suspect: bool = False,
) -> None:
    """Store a pending signature and email its owner, revealing nothing.

    A first signature gets a confirmation link; a repeat gets the link again
    (if still pending) or an "already signed" notice, at most once per
    NOTICE_INTERVAL so nobody can flood an inbox through the form. Each box
    ticked is recorded with its words as shown, in ``locale`` (the page's).
    ``ip_key`` is the client's key (campaign/privacy/client_keys.py), never
    its address.

    A ``suspect`` one (campaign/abuse.py) is kept as fraudulent: never
    counted, no email sent, listed for organisers to restore.
    """
    if not petition.is_open:
        raise PetitionClosed
    address = email_hash(email)
    now = now_utc()
    # Straight to the connection: a Core statement needs no ORM machinery.
    inserted = (
        db.session.connection()
        .execute(
            _insert_signature(db.engine.dialect.name),
            {
                "petition_id": petition.id,
                "name": name,
                "email": email,
                "email_hash": address,
                "domain_key": domain_hash(email),
                "country": country,
                "comment": comment or None,
                "join_list": join_list,
                "wants_updates": wants_updates,
                "public": public,
                "locale": locale,
                "state": SignatureState.FRAUDULENT
                if suspect
                else SignatureState.PENDING,
                "ip_key": ip_key,
                "notified_at": None if suspect else now,
                "notice": None if suspect else Notice.CONFIRM,
                "created_at": now,
                "updated_at": now,
            },
        )
        .scalar()
    )
    if inserted is not None:
        _record_consents(inserted, locale, now, join_list, wants_updates)
    if suspect:
        due = False
    else:
        due = inserted is not None or _repeat_notice_due(petition, address, now)
    db.session.commit()
    if due:
        # Imported here, not at the top: the task module pulls in Celery,
        # which commands such as exports should not pay for at start-up.
        from campaign.petition.tasks import kick_sender

        kick_sender()


def _record_consents(signature_id, locale, now, join_list, wants_updates) -> None:
    """Keep the words beside each box the signer ticked, as the page showed them."""
    ticked = [
        (ConsentPurpose.LIST, PETITION_WORDING, join_list),
        (ConsentPurpose.UPDATES, UPDATES_WORDING, wants_updates),
    ]
    with force_locale(locale):
        rows = [
            {
                "signature_id": signature_id,
                "purpose": purpose,
                "wording": str(wording),
                "locale": locale,
                "given_at": now,
            }
            for purpose, wording, box in ticked
            if box
        ]
    if rows:
        db.session.execute(sa.insert(SignatureConsent), rows)


def _repeat_notice_due(petition, address: str, now) -> bool:
    """For a repeat attempt, make the right email due (if any), atomically.

    Still pending: the link again. Confirmed: an "already signed" notice.
    Removed by an organiser, or emailed within NOTICE_INTERVAL: nothing.
    """
    interval = timedelta(seconds=current_app.config["NOTICE_INTERVAL"])
    pending = Signature.state == SignatureState.PENDING
    moved = db.session.execute(
        sa.update(Signature)
        .where(
            Signature.petition_id == petition.id,
            Signature.email_hash == address,
            Signature.state.in_([SignatureState.PENDING, SignatureState.VALIDATED]),
            sa.or_(
                Signature.notified_at.is_(None), Signature.notified_at < now - interval
            ),
        )
        .values(
            notified_at=now,
            notice=sa.case(
                (pending, Notice.CONFIRM.value), else_=Notice.ALREADY_SIGNED.value
            ),
            # A newer email supersedes one a sender run may hold.
            notice_claim=None,
            notice_claimed_at=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(moved)


@functools.cache
def _validate_pending(dialect_name: str):
    """UPDATE … pending → validated RETURNING what confirming needs, built once."""
    table = Signature.__table__
    now = sa.bindparam("now")
    return (
        sa.update(table)
        .where(
            table.c.id == sa.bindparam("signature_id"),
            table.c.state == SignatureState.PENDING,
        )
        .values(state=SignatureState.VALIDATED, validated_at=now, updated_at=now)
        .returning(table.c.petition_id, table.c.email_hash, table.c.join_list)
    )


def confirm_signature(token: str) -> int:
    """Validate the signature a link names and return its id; a second click
    changes nothing.

    The hot path is one conditional UPDATE … RETURNING, the counter shard and
    the commit, on the connection (no ORM load: a confirmation should cost no
    more than the signature it confirms). The address check comes after the
    UPDATE and rolls it back on a mismatch, which only a link to an address
    since changed or erased can cause.
    """
    signature_id, tag = signature_link(token)
    connection = db.session.connection()
    moved = connection.execute(
        _validate_pending(db.engine.dialect.name),
        {"signature_id": signature_id, "now": now_utc()},
    ).first()
    if moved is None:  # already confirmed, removed, or never ours
        _check_confirmed_link(signature_id, tag)
        return signature_id
    if not address_matches(moved.email_hash, tag):
        db.session.rollback()
        raise InvalidLink
    add_to_count(moved.petition_id, 1)
    if moved.join_list:
        _join_mailing_list(db.session.get(Signature, signature_id))
    db.session.commit()
    # This process at least shows the signer their own signature.
    forget_count(moved.petition_id)
    return signature_id


def _check_confirmed_link(signature_id: int, tag: str) -> None:
    """A link that moved nothing: fine if its signature exists, else InvalidLink."""
    address = db.session.scalar(
        sa.select(Signature.email_hash).where(Signature.id == signature_id)
    )
    db.session.rollback()  # end the read's transaction, as a commit would
    if not address_matches(address, tag):
        raise InvalidLink


def _join_mailing_list(signature: Signature) -> None:
    """The petition's opt-in takes effect now the address is proven, with the
    words the signer was shown (recorded at signing; older signatures have no
    record, and get the box's words in their language)."""
    shown = [c for c in signature.consents if c.purpose is ConsentPurpose.LIST]
    if shown:
        wording = shown[0].wording
    else:
        with force_locale(signature.locale):
            wording = str(PETITION_WORDING)
    signer_joined_list.send(signature, wording=wording)


@functools.cache
def _add_to_shard(dialect_name: str):
    """INSERT … ON CONFLICT DO UPDATE adding to one counter shard, built once."""
    table = CounterShard.__table__
    insert = insert_for(table, dialect_name).values(
        petition_id=sa.bindparam("petition_id"),
        shard=sa.bindparam("shard"),
        count=sa.bindparam("amount"),
    )
    return insert.on_conflict_do_update(
        index_elements=["petition_id", "shard"],
        set_={"count": table.c.count + insert.excluded.count},
    )


def add_to_count(petition_id: int, amount: int) -> None:
    """Add to one random shard of the petition's counter (in the caller's unit)."""
    shard = random.randrange(current_app.config["COUNTER_SHARDS"])  # noqa: S311
    db.session.connection().execute(
        _add_to_shard(db.engine.dialect.name),
        {"petition_id": petition_id, "shard": shard, "amount": amount},
    )


def confirmed_count(petition_id: int) -> int:
    """The petition's confirmed signatures, summed from its counter shards."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CounterShard.count), 0)).where(
            CounterShard.petition_id == petition_id
        )
    )
    return int(total)


def _count_key(petition_id: int) -> str:
    """Cache key of a petition's public count."""
    return f"petition-count/{petition_id}"


def _ref_key(slug: str) -> str:
    """Cache key of a petition's cached facts."""
    return f"petition-ref/{slug}"


def _signers_key(petition_id: int) -> str:
    """Cache key of a petition's latest public signers."""
    return f"petition-signers/{petition_id}"


def _public_key(slug: str, locale: str) -> str:
    """Cache key of a petition's public facts in one language."""
    return f"petition-public/{slug}/{locale}"


def _story_petition_key(story_id: int) -> str:
    """Cache key of the slug of the petition shown beside a story."""
    return f"story-petition/{story_id}"


def forget_count(petition_id: int) -> None:
    """Drop the cached count and latest signers after changing them."""
    cache.delete_many(_count_key(petition_id), _signers_key(petition_id))
    pages_changed()


def public_count(petition_id: int) -> int:
    """The confirmed count as the public sees it: at most a few seconds old."""
    return remember(_count_key(petition_id), lambda: confirmed_count(petition_id))


def petition_ref(slug: str) -> PetitionRef | None:
    """The few facts signing and counting need, cached for a few seconds."""

    def load() -> PetitionRef | None:
        row = db.session.execute(
            sa.select(
                Petition.id,
                Petition.slug,
                Petition.title,
                Petition.goal,
                Petition.state,
                Petition.goal_mode,
            ).where(Petition.slug == slug)
        ).first()
        if row is None:
            return None
        is_open = row.state is PetitionState.OPEN
        return PetitionRef(
            row.id,
            row.slug,
            row.title,
            row.goal,
            is_open,
            row.state.is_public,
            row.goal_mode,
        )

    return remember(_ref_key(slug), load)


def recount(petition: Petition) -> int:
    """Repair the counter from the signatures themselves; return the count."""
    if db.engine.dialect.name == "postgresql":
        # Hold confirmations back while the shards are rebuilt, so none is lost.
        db.session.execute(
            sa.text("LOCK TABLE petition_counter_shard IN SHARE ROW EXCLUSIVE MODE")
        )
    exact = db.session.scalar(
        sa.select(sa.func.count()).where(
            Signature.petition_id == petition.id,
            Signature.state == SignatureState.VALIDATED,
        )
    )
    db.session.execute(
        sa.delete(CounterShard).where(CounterShard.petition_id == petition.id)
    )
    db.session.add(CounterShard(petition_id=petition.id, shard=0, count=exact))
    db.session.commit()
    return exact


def latest_public_signers(petition, limit: int = 8) -> list[PublicSigner]:
    """The latest confirmed signers who chose to be shown, with their comments
    (at most COUNT_CACHE_SECONDS old, like the count)."""
    return remember(
        _signers_key(petition.id), lambda: _latest_public_signers(petition, limit)
    )


def _latest_public_signers(petition, limit: int) -> list[PublicSigner]:
    """The latest public signers, read from the database."""
    rows = db.session.execute(
        sa.select(
            Signature.name,
            Signature.country,
            Signature.comment,
            Signature.comment_hidden,
        )
        .where(
            Signature.petition_id == petition.id,
            Signature.state == SignatureState.VALIDATED,
            Signature.public.is_(True),
            Signature.name_hidden.is_(False),
        )
        .order_by(Signature.validated_at.desc())
        .limit(limit)
    )
    # The comment is blanked here, not in SQL: a CASE over an encrypted column
    # would come back as ciphertext.
    return [
        PublicSigner(
            first_name(name),
            country,
            None if hidden else shorten(comment, COMMENT_SHOWN),
        )
        for name, country, comment, hidden in rows
        if name  # an anonymised signer (campaign/retention/) has no name to show
    ]


def all_petitions() -> list[Petition]:
    """Every petition, oldest first."""
    return list(db.session.scalars(sa.select(Petition).order_by(Petition.id)))


def get_petition(slug: str) -> Petition | None:
    """The petition with this slug."""
    return db.session.scalar(sa.select(Petition).filter_by(slug=slug))


def public_petition(slug: str, locale: str | None = None) -> PublicPetition | None:
    """The public facts of the petition with this slug, in the page's language
    or in English where it has no translation (cached per locale)."""
    locale = locale or page_locale()

    def load() -> PublicPetition | None:
        petition = get_petition(slug)
        if petition is None:
            return None
        return PublicPetition.of(petition, petition_translation(petition.id, locale))

    return remember(_public_key(slug, locale), load)


def petition_translation(petition_id: int, locale: str) -> PetitionTranslation | None:
    """The petition's translation into ``locale``, if it has one (never English)."""
    if locale == ORIGINAL:
        return None
    return db.session.scalar(
        sa.select(PetitionTranslation).filter_by(petition_id=petition_id, locale=locale)
    )


def forget_petition(petition: Petition, old_slug: str | None = None) -> None:
    """Drop what is cached of a petition's public facts, in every language
    (under its old slug too, after a rename), and the pages that show them."""
    languages = current_app.config["LANGUAGES"]
    keys = []
    for slug in {petition.slug, old_slug or petition.slug}:
        keys.append(_ref_key(slug))
        keys += [_public_key(slug, locale) for locale in languages]
    if petition.story_id is not None:  # closing one may bring another forward
        keys.append(_story_petition_key(petition.story_id))
    cache.delete_many(*keys)
    pages_changed()


def petition_for_story(story_id: int) -> PublicPetition | None:
    """The petition shown beside a story: its newest open one, else its newest
    closed or archived one (never a draft)."""

    def load() -> str | None:
        query = (
            sa.select(Petition.slug)
            .filter_by(story_id=story_id)
            .where(Petition.state != PetitionState.DRAFT)
            .order_by((Petition.state == PetitionState.OPEN).desc(), Petition.id.desc())
        )
        return db.session.scalars(query.limit(1)).first()

    slug = remember(_story_petition_key(story_id), load)
    return public_petition(slug) if slug else None


def update_petition(
    petition: Petition, organiser, translations: dict | None = None, **fields
) -> Petition:
    """Apply an organiser's edit of the English petition, its slug, goal and
    story, and of each language version in ``translations`` ({locale: {title,
    target, body_markdown}}; all empty: no version in that language). Audited,
    naming what changed, and each language version saved kept in the
    petition's history; the public pages show it at once. A new slug keeps
    the old one redirecting; SlugTaken if another petition has it."""
    old_slug, old_story = petition.slug, petition.story_id
    if "slug" in fields:
        fields["slug"] = _chosen_slug(petition, fields["slug"])
    start_history("petition", petition.id, ORIGINAL, _history_fields(petition))
    changed = [name for name, new in fields.items() if getattr(petition, name) != new]
    for name in changed:
        setattr(petition, name, fields[name])
    if "slug" in changed:
        slugs.rename_slug("petition", petition.id, old_slug, petition.slug)
    petition.body_html = render_markdown(petition.body_markdown)
    record_revision(
        "petition", petition.id, ORIGINAL, _history_fields(petition), organiser
    )
    for locale, words in (translations or {}).items():
        if outcome := _save_translation(petition, locale, words, organiser):
            changed.append(f"{locale} {outcome}")
    detail = f"{old_slug}: {', '.join(changed) or 'nothing changed'}"
    if "slug" in changed:
        detail += f" (now at {petition.slug})"
    record(organiser, "edit-petition", detail)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # another petition took the slug meanwhile
        db.session.rollback()
        if "slug" not in changed:
            raise
        raise SlugTaken(slugs.available_slug("petition", fields["slug"])) from None
    forget_petition(petition, old_slug)
    if old_story is not None and old_story != petition.story_id:
        cache.delete(_story_petition_key(old_story))
    return petition


def _chosen_slug(petition: Petition, wanted: str | None) -> str:
    """The slug an edit asks for (blank: the current one); SlugTaken if
    another petition has it, now or as an old slug that still redirects."""
    if not wanted:
        return petition.slug
    if slugs.slug_owner("petition", wanted) not in (None, petition.id):
        raise SlugTaken(slugs.available_slug("petition", wanted, petition.id))
    return wanted


def _history_fields(text) -> dict[str, str]:
    """A petition's or language version's words as its history keeps them."""
    return {name: getattr(text, name) for name in TEXT_FIELDS}


def _save_translation(
    petition: Petition, locale: str, words: dict, organiser
) -> str | None:
    """Create, change or (when every field is empty) remove one language
    version, kept in the history; say which, or None when it stayed as it was."""
    existing = petition_translation(petition.id, locale)
    if existing is not None:
        if all(getattr(existing, name) == words[name] for name in TEXT_FIELDS):
            return None
        start_history("petition", petition.id, locale, _history_fields(existing))
    if not any(words.get(name) for name in TEXT_FIELDS):
        if existing is None:
            return None
        db.session.delete(existing)
        outcome = "version removed"
    elif existing is None:
        existing = PetitionTranslation(petition_id=petition.id, locale=locale)
        db.session.add(existing)
        outcome = "version added"
    else:
        outcome = "version changed"
    if outcome != "version removed":
        for name in TEXT_FIELDS:
            setattr(existing, name, words[name])
        existing.body_html = render_markdown(existing.body_markdown)
    saved = {name: words.get(name) or "" for name in TEXT_FIELDS}
    record_revision("petition", petition.id, locale, saved, organiser)
    return outcome


def translations_of(petition: Petition) -> dict[str, PetitionTranslation]:
    """The petition's language versions, by locale (English is the petition)."""
    rows = db.session.scalars(
        sa.select(PetitionTranslation).filter_by(petition_id=petition.id)
    )
    return {row.locale: row for row in rows}


def upsert_petition(meta: dict, body: str, story_id: int | None) -> Petition:
    """Create the petition from content, or leave an existing one as it is."""
    petition = get_petition(meta["slug"])
    if petition is None:
        petition = Petition(
            slug=meta["slug"],
            story_id=story_id,
            title=meta["title"],
            target=meta["target"],
            goal=int(meta["goal"]),
            state=PetitionState.OPEN,  # content files are published campaigns
            body_markdown=body,
            body_html=render_markdown(body),
        )
        db.session.add(petition)
        db.session.flush()
    return petition


def upsert_petition_translation(
    petition: Petition, locale: str, meta: dict, body: str
) -> PetitionTranslation | None:
    """Create the petition's translation from content, or leave an existing
    one as it is; return it only when it was created."""
    if petition_translation(petition.id, locale) is not None:
        return None
    translation = PetitionTranslation(
        petition_id=petition.id,
        locale=locale,
        title=meta["title"],
        target=meta["target"],
        body_markdown=body,
        body_html=render_markdown(body),
    )
    db.session.add(translation)
    db.session.flush()
    return translation


def preview_petition(petition: Petition, locale: str | None = None) -> PublicPetition:
    """A petition's public facts as its page shows them, drafts included
    (uncached: for organisers' previews)."""
    translation = petition_translation(petition.id, locale or page_locale())
    return PublicPetition.of(petition, translation)
