"""The public campaign pages: each story at /stories/<slug> beside its
petition, and /campaigns listing open petitions first, then closed ones."""

from datetime import date

import pytest

from campaign.extensions import db
from campaign.petition.models import Petition, PetitionState
from campaign.petition.services import add_to_count
from campaign.story.models import Story, StoryState
from campaign.text import render_markdown
from tests.helpers import SLUG
from tests.test_story import article_paragraphs, visible_text

SEEDED = "russia-recognizes-taliban"


def add_campaign(app, slug, story_state, petition_state=None, count=0, goal=100):
    """A story in ``story_state`` and, with ``petition_state``, its petition
    with ``count`` confirmed signatures."""
    with app.app_context():
        story = Story(
            slug=slug,
            title=f"Story {slug}",
            summary=f"Summary of {slug}",
            published_on=date(2026, 1, 1),
            body_markdown="Text.",
            body_html=render_markdown("Text."),
            sources=[],
            state=story_state,
        )
        db.session.add(story)
        db.session.flush()
        if petition_state is not None:
            petition = Petition(
                slug=f"petition-{slug}",
                story_id=story.id,
                title=f"Petition {slug}",
                target="Someone",
                body_markdown="Ask.",
                body_html="<p>Ask.</p>",
                goal=goal,
                state=petition_state,
            )
            db.session.add(petition)
            db.session.flush()
            add_to_count(petition.id, count)
        db.session.commit()


@pytest.fixture
def campaigns_app(app):
    """The seeded campaign beside an open, a closed, an archived and a draft one."""
    add_campaign(app, "open-one", StoryState.PUBLISHED, PetitionState.OPEN, 42, 500)
    add_campaign(app, "closed-one", StoryState.PUBLISHED, PetitionState.CLOSED, 1234)
    add_campaign(app, "archived-one", StoryState.ARCHIVED, PetitionState.OPEN, 7)
    add_campaign(app, "draft-one", StoryState.DRAFT, PetitionState.OPEN, 3)
    add_campaign(app, "story-alone", StoryState.PUBLISHED)
    return app


def test_campaigns_lists_open_petitions_first_then_closed_ones(campaigns_app):
    response = campaigns_app.test_client().get("/campaigns")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    open_part, closed_part = html.split('id="closed-title"')
    # Open: title, the story's summary, the count and goal, a link.
    assert '<a href="/stories/open-one">Petition open-one</a>' in open_part
    assert "Summary of open-one" in open_part
    assert '<progress value="42" max="500">' in open_part
    assert "No recognition for the Taliban" in open_part  # the seeded one
    assert '<a href="/stories/story-alone">Story story-alone</a>' in open_part
    # Closed and archived: below, with the final count and a "closed" label.
    for slug in ("closed-one", "archived-one"):
        assert f"Petition {slug}" not in open_part
        assert f"Petition {slug}" in closed_part
    assert "Final count: 1,234 signatures" in closed_part
    assert "Final count: 7 signatures" in closed_part
    assert closed_part.count('<p class="closed-label">Closed</p>') == 2
    # Drafts never appear.
    assert "draft-one" not in html


def test_campaigns_is_linked_from_every_page_and_cacheable(campaigns_app):
    client = campaigns_app.test_client()
    for path in ("/", f"/petitions/{SLUG}", "/campaigns"):
        html = client.get(path).get_data(as_text=True)
        assert '<a href="/campaigns">All campaigns</a>' in html
    response = client.get("/campaigns")
    assert response.cache_control.public and "Cookie" in response.vary


def test_campaigns_in_another_language(campaigns_app):
    html = campaigns_app.test_client().get("/fa/campaigns").get_data(as_text=True)
    assert '<html lang="fa-AF" dir="rtl">' in html
    assert "/fa/stories/open-one" in html
    # English words where there is no translation, marked as English.
    assert '<h3 lang="en" dir="ltr"><a href="/fa/stories/open-one">' in html


def test_a_new_campaign_shows_on_the_cached_index_at_once(app_factory):
    from tests.test_story_organiser import create, signed_in, step

    app = app_factory(CACHE_TYPE="SimpleCache", COUNT_CACHE_SECONDS=30)
    visitor, editor = app.test_client(), signed_in(app)
    assert "fifth year" not in visitor.get("/campaigns").get_data(as_text=True)
    create(editor, slug="second-story")
    assert "fifth year" not in visitor.get("/campaigns").get_data(as_text=True)
    step(editor, "second-story", "publish")
    assert "fifth year" in visitor.get("/campaigns").get_data(as_text=True)


def test_each_story_has_its_own_page_beside_its_petition(campaigns_app):
    client = campaigns_app.test_client()
    html = client.get(f"/stories/{SEEDED}").get_data(as_text=True)
    text = visible_text(html)
    for paragraph in article_paragraphs():  # word for word, as at /
        assert " ".join(paragraph.split()) in text, paragraph[:60]
    assert f'action="/petitions/{SLUG}/sign"' in html  # the petition panel
    assert (
        f'<link rel="canonical" href="http://campaign.test/stories/{SEEDED}">' in html
    )
    other = client.get("/stories/open-one").get_data(as_text=True)
    assert "<h1>Story open-one</h1>" in other
    assert 'action="/petitions/petition-open-one/sign"' in other


def test_archived_stories_stay_readable_with_a_notice(campaigns_app):
    response = campaigns_app.test_client().get("/stories/archived-one")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "This campaign is over" in html and "<h1>Story archived-one</h1>" in html


@pytest.mark.parametrize("path", ["/stories/draft-one", "/stories/no-such-story"])
def test_drafts_and_unknown_stories_are_not_found(campaigns_app, path):
    response = campaigns_app.test_client().get(path)
    assert response.status_code == 404
    assert "Story draft-one" not in response.get_data(as_text=True)


def test_a_translated_story_links_to_its_english_page(app):
    html = app.test_client().get(f"/fa/stories/{SEEDED}").get_data(as_text=True)
    assert f'<a href="/stories/{SEEDED}" hreflang="en">' in html
    assert f'hreflang="ps" href="http://campaign.test/ps/stories/{SEEDED}"' in html
