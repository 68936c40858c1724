"""``flask campaign …`` commands."""

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from campaign.extensions import db
from campaign.organiser import services as organisers
from campaign.permissions import Role
from campaign.petition import services as petitions
from campaign.petition.exports import Filters, SignatureExport, count_rows
from campaign.petition.models import Petition, SignatureState
from campaign.story.services import upsert_story
from campaign.text import read_content

group = AppGroup("campaign", help="Manage the campaign.")


def seed_content() -> tuple[str, str]:
    """Load the story and petition content files unless already loaded."""
    story_meta, story_body = read_content("story.md")
    story = upsert_story(story_meta, story_body)
    petition_meta, petition_body = read_content("petition.md")
    petition = petitions.upsert_petition(petition_meta, petition_body, story.id)
    db.session.commit()
    return story.slug, petition.slug


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


def register(app: Flask) -> None:
    """Add the command group to ``flask``."""
    app.cli.add_command(group)
