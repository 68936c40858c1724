"""Goals that step up when reached, or stay fixed: the ladder itself, and
the goal the public page, count.json, the dashboard and listings show."""

import re

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from campaign.encryption import email_hash
from campaign.extensions import db
from campaign.models import now_utc
from campaign.permissions import Role
from campaign.petition import lifecycle
from campaign.petition.goals import GoalMode, milestones, next_milestone, shown_goal
from campaign.petition.models import Petition, Signature, SignatureState
from campaign.petition.services import forget_count, forget_petition, recount
from tests.helpers import SLUG
from tests.test_organiser import add_organiser, log_in

LADDER = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000]
STEPPING, FIXED = GoalMode.STEPPING, GoalMode.FIXED
PAGES = ["page", "front", "campaigns", "count.json", "dashboard", "listed"]


def test_the_ladder_is_the_documented_one():
    ladder = milestones()
    assert [next(ladder) for _ in range(13)] == [
        *LADDER,
        250_000,
        500_000,
        1_000_000,
    ]


@pytest.mark.parametrize(
    ("goal", "count", "shown"),
    [
        (100, 0, 100),
        (100, 99, 100),
        (100, 100, 250),  # reached: the next milestone
        (100, 101, 250),
        (100, 249, 250),
        (100, 250, 500),
        (100, 999, 1_000),
        (100, 1_000, 2_500),
        (1_000, 999, 1_000),
        (1_000, 1_000, 2_500),
        (300, 299, 300),  # a goal off the ladder stays until reached
        (300, 300, 500),
        (100, 99_999, 100_000),
        (100, 100_000, 250_000),
        (100, 2_500_000, 5_000_000),
    ],
)
def test_a_stepping_goal_moves_up_at_each_milestone(goal, count, shown):
    assert shown_goal(goal, STEPPING, count) == shown


@pytest.mark.parametrize("count", [0, 99, 100, 101, 150, 10_000])
def test_a_fixed_goal_stays_even_when_passed(count):
    assert shown_goal(100, FIXED, count) == 100


counts = st.integers(min_value=0, max_value=10**12)
goals = st.integers(min_value=1, max_value=100_000_000)


@given(goal=goals, count=counts)
def test_a_stepping_goal_is_always_ahead_of_the_count_once_reached(goal, count):
    shown = shown_goal(goal, STEPPING, count)
    assert shown >= goal
    assert shown > count or shown == goal > count
    if count >= goal:
        assert shown in {next_milestone(count)}
        assert shown > count
        # The next milestone: nothing on the ladder between the count and it.
        assert next_milestone(count - 1) <= shown


@given(goal=goals, count=counts)
def test_a_stepping_goal_never_goes_back_as_the_count_grows(goal, count):
    assert shown_goal(goal, STEPPING, count + 1) >= shown_goal(goal, STEPPING, count)


@given(goal=goals, count=counts)
def test_a_fixed_goal_is_the_goal_set(goal, count):
    assert shown_goal(goal, FIXED, count) == goal


def set_goal(app, goal: int, mode: GoalMode, count: int) -> None:
    """Give the seeded petition a goal, a mode and a confirmed count."""
    with app.app_context():
        petition = db.session.scalar(sa.select(Petition).filter_by(slug=SLUG))
        petition.goal, petition.goal_mode = goal, mode
        db.session.execute(
            sa.insert(Signature),
            [
                {
                    "petition_id": petition.id,
                    "name": f"Signer {n}",
                    "email": f"s{n}@example.org",
                    "email_hash": email_hash(f"s{n}@example.org"),
                    "country": "AF",
                    "state": SignatureState.VALIDATED,
                    "validated_at": now_utc(),
                }
                for n in range(count)
            ],
        )
        recount(petition)  # the counter shards follow the signatures
        forget_petition(petition)
        forget_count(petition.id)


def shown_on_pages(app, client) -> dict[str, int]:
    """The goal each page shows for the seeded petition."""
    page = client.get(f"/petitions/{SLUG}").get_data(as_text=True)
    front = client.get("/").get_data(as_text=True)
    index = client.get("/campaigns").get_data(as_text=True)
    dashboard = client.get("/organiser/").get_data(as_text=True)
    figure = re.search(r"<dt>Goal</dt><dd>([\d,]+)", dashboard).group(1)
    with app.test_request_context():
        listed = {p.slug: p for p in lifecycle.listed_petitions("en")}
    return {
        "page": int(re.search(r'<progress [^>]*max="(\d+)"', page).group(1)),
        "front": int(re.search(r'<progress [^>]*max="(\d+)"', front).group(1)),
        "campaigns": int(re.search(r'<progress [^>]*max="(\d+)"', index).group(1)),
        "count.json": client.get(f"/petitions/{SLUG}/count.json").get_json()["goal"],
        "dashboard": int(figure.replace(",", "")),
        "listed": listed[SLUG].goal,
    }


@pytest.fixture
def staff(app):
    """A client signed in as staff (pages for the public look the same)."""
    client = app.test_client()
    add_organiser(app, "staff@example.org", Role.STAFF)
    assert log_in(client, "staff@example.org").status_code == 302
    return client


@pytest.mark.parametrize(
    ("count", "shown"), [(99, 100), (100, 250), (249, 250), (250, 500)]
)
def test_every_page_shows_the_stepped_goal(app, staff, count, shown):
    set_goal(app, 100, STEPPING, count)
    assert shown_on_pages(app, staff) == dict.fromkeys(PAGES, shown)


def test_a_fixed_goal_is_shown_passed(app, staff):
    set_goal(app, 100, FIXED, 150)
    assert shown_on_pages(app, staff) == dict.fromkeys(PAGES, 100)
    page = staff.get(f"/petitions/{SLUG}").get_data(as_text=True)
    assert "<strong data-count>150</strong>" in page
    assert '<progress value="100" max="100">' in page  # full, and past it


def test_the_goal_mode_is_set_on_the_edit_page(app, staff):
    add_organiser(app, "editor@example.org", Role.EDITOR)
    editor = app.test_client()
    assert log_in(editor, "editor@example.org").status_code == 302
    html = editor.get(f"/organiser/petitions/{SLUG}/edit").get_data(as_text=True)
    assert 'name="goal_mode"' in html and "Stepping" in html
