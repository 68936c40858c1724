"""The story page: the campaign's article beside its petition."""

from flask import Blueprint, abort, render_template

from campaign.http_cache import public_page
from campaign.petition.services import petition_for_story
from campaign.petition.views import petition_panel
from campaign.story.services import front_story

bp = Blueprint("story", __name__)


@bp.get("/")
@public_page
def index():
    """The front page: the story, its petition and the sign form."""
    story = front_story() or abort(404)
    petition = petition_for_story(story.id)
    panel = petition_panel(petition) if petition else {}
    return render_template("story/index.html", story=story, **panel)
