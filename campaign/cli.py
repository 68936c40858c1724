"""``flask campaign …`` commands."""

from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from campaign.extensions import db
from campaign.key_rotation import rotate_keys as rotate
from campaign.localised import translation_files
from campaign.organiser import services as organisers
from campaign.permissions import Role
from campaign.petition import services as petitions
from campaign.petition.exports import Filters, SignatureExport, count_rows
from campaign.petition.models import Petition, SignatureState
from campaign.retention import services as retention_periods
from campaign.story import services as stories
from campaign.text import CONTENT_DIR, read_content

group = AppGroup("campaign", help="Manage the campaign.")


def seed_content(content_dir: Path = CONTENT_DIR) -> tuple[str, str]:
    """Load the story and petition content files, and their translations
    (``story.<locale>.md``, ``petition.<locale>.md``), unless already loaded."""
    story_meta, story_body = read_content("story.md", content_dir)
    story = stories.upsert_story(story_meta, story_body)
    petition_meta, petition_body = read_content("petition.md", content_dir)
    petition = petitions.upsert_petition(petition_meta, petition_body, story.id)
    added = []
    for locale, name in translation_files(content_dir, "story"):
        meta, body = _translation_of(name, content_dir, story.slug)
        added.append(stories.upsert_story_translation(story, locale, meta, body))
    for locale, name in translation_files(content_dir, "petition"):
        meta, body = _translation_of(name, content_dir, petition.slug)
        added.append(
            petitions.upsert_petition_translation(petition, locale, meta, body)
        )
    db.session.commit()
    if any(added):
        stories.forget_front_story(current_app.config["LANGUAGES"])
        petitions.forget_petition(petition)
    return story.slug, petition.slug


def _translation_of(name: str, content_dir: Path, slug: str) -> tuple[dict, str]:
    """A translation's content file, checked to translate the content ``slug``."""
    meta, body = read_content(name, content_dir)
    if meta.get("translation_of") != slug:
        raise click.ClickException(
            f"{name} must say translation_of: {slug} (it says "
            f"{meta.get('translation_of')!r})."
        )
    return meta, body


@group.command("seed")
def seed() -> None:
    """Load the campaign content (safe to run again: nothing is duplicated)."""
    story_slug, petition_slug = seed_content()
    click.echo(f"Story {story_slug} and petition {petition_slug} are loaded.")


@group.command("recount")
@click.argument("slug", required=False)
def recount(slug: str | None) -> None:
    """Rebuild confirmed counts from the signatures (one petition, or all)."""
    query = sa.select(Petition)
    if slug:
        query = query.filter_by(slug=slug)
    found = db.session.scalars(query).all()
    if not found:
        raise click.ClickException(f"No petition {slug!r}.")
    for petition in found:
        click.echo(f"{petition.slug}: {petitions.recount(petition)}")


@group.command("create-organiser")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.STAFF.value,
    show_default=True,
    help="admin: everything; editor: petitions, stories, broadcasts; "
    "staff: read, export, moderate.",
)
def create_organiser(email: str, role: str) -> None:
    """Add an organiser; the password is asked for, never taken as an argument."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        organisers.create_organiser(email, password, Role(role))
    except organisers.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Organiser {email.strip().lower()} ({role}) can now sign in.")


@group.command("export-signatures")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True)
@click.option("--state", type=click.Choice([s.value for s in SignatureState]))
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--country", help="Two-letter country code.")
@click.option("--opted-in", is_flag=True, help="Only mailing-list opt-ins.")
def export_signatures(slug, output, state, since, until, country, opted_in) -> None:
    """Write a petition's signatures to a CSV file, with a progress bar."""
    petition = petitions.get_petition(slug)
    if petition is None:
        raise click.ClickException(f"No petition {slug!r}.")
    filters = Filters(
        state=SignatureState(state) if state else None,
        since=since.date() if since else None,
        until=until.date() if until else None,
        country=country.upper() if country else None,
        opted_in=opted_in,
    )
    total = count_rows(petition, filters)
    export = SignatureExport(petition, filters, None, "cli")
    with (
        open(output, "wb") as file,
        click.progressbar(length=total, label="Exporting") as bar,
    ):
        for chunk in export:
            file.write(chunk)
            bar.update(export.written - bar.pos)
    click.echo(f"{export.written} signatures written to {output}.")


@group.command("send-broadcast")
@click.argument("broadcast_id", type=int)
def send_broadcast(broadcast_id: int) -> None:
    """Start a broadcast if it is a draft, and send it here with a progress bar.

    Workers may send the same broadcast at the same time; nobody gets two copies.
    """
    from campaign.mailing import broadcasts, ledger, sender

    broadcast = broadcasts.get_broadcast(broadcast_id)
    if broadcast is None:
        raise click.ClickException(f"No broadcast {broadcast_id}.")
    broadcasts.start(broadcast_id)
    db.session.refresh(broadcast)
    done = broadcast.recipients - ledger.outstanding(broadcast_id)
    with click.progressbar(length=broadcast.recipients, label="Sending") as bar:
        bar.update(done)
        try:
            sender.send_broadcast(broadcast_id, on_progress=bar.update)
        except sender.SmtpUnavailable as error:
            raise click.ClickException(
                "The SMTP server is unreachable; run this again to resume."
            ) from error
    status = broadcasts.status(broadcast)
    click.echo(
        f"Broadcast {broadcast_id} is {status['state']}: {status['sent']} sent, "
        f"{status['failed']} failed, {status['skipped']} skipped, "
        f"{status['unknown']} unknown, {status['pending']} pending."
    )


@group.command("record-bounce")
@click.argument("email")
@click.option(
    "--kind", type=click.Choice(["hard", "soft", "complaint"]), default="hard"
)
def record_bounce(email: str, kind: str) -> None:
    """Record a bounce or complaint; hard bounces and complaints suppress."""
    from campaign.mailing import services as mailing

    reason = mailing.record_bounce(email, kind)
    outcome = f"suppressed ({reason.value})" if reason else "still mailed"
    click.echo(f"Recorded; the address is {outcome}.")


@group.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what is due; change nothing.")
def retention(dry_run: bool) -> None:
    """Delete and anonymise what the retention periods say is due (see README)."""
    counts = retention_periods.apply_retention(dry_run=dry_run)
    for name, count in counts.items():
        click.echo(f"{name.replace('_', ' ')}: {count}")
    if dry_run:
        click.echo("Dry run: nothing was changed.")


@group.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every value under the first of ENCRYPTION_KEYS (see README)."""
    for table, count in rotate().items():
        click.echo(f"{table}: {count} re-encrypted")


def register(app: Flask) -> None:
    """Add the command group to ``flask``."""
    app.cli.add_command(group)
