"""A petition's shown goal: fixed, or stepping up a ladder of milestones.

The one place the goal a page shows is worked out from the confirmed count;
the public page, count.json, the progress bar, the dashboard and the
campaigns index all ask ``shown_goal``.

A **fixed** goal stays as the organiser set it, and progress may pass 100%.
A **stepping** goal is the organiser's goal until the count reaches it; from
then on it is the next milestone above the count, as campaign sites do, so
the bar always has somewhere to go:

    100, 250, 500, 1,000, 2,500, 5,000, 10,000, 25,000, 50,000, 100,000,

and on in the same 1–2.5–5 steps (250,000, 500,000, 1,000,000, 2,500,000 …).
"""

import enum

from flask_babel import lazy_gettext as _l


class GoalMode(enum.Enum):
    """How a petition's goal behaves once reached (see petition/goals.py)."""

    FIXED = "fixed"  # the goal stays; progress may pass 100%
    STEPPING = "stepping"  # the shown goal steps up to the next milestone

    @property
    def label(self) -> str:
        """What organisers read for this mode."""
        return GOAL_MODE_LABELS[self]


GOAL_MODE_LABELS = {
    GoalMode.FIXED: _l("Fixed: the goal stays as set"),
    GoalMode.STEPPING: _l(
        "Stepping: when reached, the goal moves to the next milestone"
    ),
}

# One decade of the ladder; each further decade is ten times the one before.
STEPS = (100, 250, 500)


def milestones():
    """The ladder, lowest first, without end: 100, 250, 500, 1,000, …"""
    scale = 1
    while True:
        for step in STEPS:
            yield step * scale
        scale *= 10


def next_milestone(count: int) -> int:
    """The lowest milestone above ``count`` (a count of 100 goes on to 250)."""
    return next(milestone for milestone in milestones() if milestone > count)


def shown_goal(goal: int, mode: GoalMode, count: int) -> int:
    """The goal to show beside ``count`` confirmed signatures."""
    if mode is GoalMode.STEPPING and count >= goal:
        return next_milestone(count)
    return goal
