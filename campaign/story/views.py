"""Public story pages: the front page, each story at its own address (an old
address redirects), and the campaigns index."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from campaign import slugs
from campaign.http_cache import public_page
from campaign.petition.services import petition_for_story
from campaign.petition.views import petition_panel
from campaign.story.campaigns import campaigns as campaign_lists
from campaign.story.services import PublicStory, any_story, front_story, public_story

bp = Blueprint("story", __name__)


def story_page(story: PublicStory):
    """A story with its petition and the sign form (one template for ``/``,
    ``/stories/<slug>`` and the organisers' preview)."""
    petition = petition_for_story(story.id)
    panel = petition_panel(petition) if petition else {}
    return render_template("story/index.html", story=story, **panel)


@bp.get("/")
@public_page
def index():
    """The front page: the featured story (else the latest), its petition."""
    return story_page(front_story() or abort(404))


@bp.get("/stories/<slug>")
@public_page
def show(slug: str):
    """A published or archived story; a draft only for signed-in organisers;
    an old address answers 301 with the story's current one."""
    story = public_story(slug)
    if story is None and _may_see_drafts():
        story = any_story(slug) or slugs.moved_or_404("story", slug)
    if story is None:
        current = slugs.follow_slug("story", slug)
        # A draft's new address stays hidden: an old one leads on only to a
        # public story.
        if current and public_story(current):
            slugs.moved_or_404("story", slug)
        abort(404)
    return story_page(story)


def _may_see_drafts() -> bool:
    """Whether the visitor is a signed-in organiser (any role may read drafts)."""
    return current_user.is_authenticated


@bp.get("/campaigns")
@public_page
def campaigns():
    """Every public campaign: open petitions first, then closed ones."""
    open_campaigns, closed_campaigns = campaign_lists()
    return render_template(
        "story/campaigns.html", open_campaigns=open_campaigns, closed=closed_campaigns
    )
