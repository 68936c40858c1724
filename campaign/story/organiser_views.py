"""Organiser pages for stories: the list, create and edit (every language side
by side, with a preview that saves nothing), publish, archive, back to draft,
feature. Every route declares the role it needs (campaign/permissions.py)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from campaign.edge import validates_text
from campaign.errors import render_error
from campaign.forms import render_form
from campaign.localised import ORIGINAL, lang_and_dir, language_name, other_languages
from campaign.permissions import Role, requires
from campaign.slugs import moved_or_404
from campaign.story import editing
from campaign.story.forms import story_form
from campaign.story.services import any_story, get_story
from campaign.story.views import story_page

bp = Blueprint("story_organiser", __name__, url_prefix="/organiser/stories")


def story_or_404(slug: str):
    """The story with this slug (an old one leads to its current page), or a
    404 page."""
    return get_story(slug) or moved_or_404("story", slug)


@bp.get("/")
@requires(Role.STAFF)
def index():
    """Every story: its state, whether it is featured, its petition, links."""
    return render_template("story/organiser/index.html", rows=editing.overview())


@bp.route("/new", methods=["GET", "POST"])
@requires(Role.EDITOR)
@validates_text  # a pasted stray character gets a message, not a lost page
def new():
    """Write a new story (saved as a draft)."""
    return _edit(None, story_form(other_languages()))


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@requires(Role.EDITOR)
@validates_text
def edit(slug: str):
    """Change a story's words in every language, its date and its address."""
    story = story_or_404(slug)
    form = story_form(other_languages(), obj=story)
    if request.method == "GET":
        form.fill({code: editing.text_of(story, code) for code in form.languages()})
    return _edit(story, form)


def _edit(story, form):
    """Preview (saving nothing) or save the story form; the page again if
    it was refused."""
    previews = None
    if form.validate_on_submit():
        if "preview" in request.form:
            previews = editing.preview(form.texts())
        else:
            try:
                saved = editing.save_story(
                    story,
                    current_user,
                    slug=form.slug.data,
                    published_on=form.published_on.data,
                    texts=form.texts(),
                )
            except editing.SlugTaken:
                form.slug.errors.append(
                    _("Another story has or had this address. Choose another.")
                )
            else:
                flash(_("The story is saved."))
                return redirect(url_for(".edit", slug=saved.slug), 303)
    return render_form(
        "story/organiser/edit.html",
        form,
        story=story,
        previews=previews,
        columns=_columns(form),
    )


def _columns(form) -> list[dict]:
    """Each language's column: its fields, name and ``lang``/``dir``."""
    return [
        {
            "locale": code,
            "name": language_name(code),
            "fields": column.form,
            "attributes": lang_and_dir(code),
            "original": code == ORIGINAL,
        }
        for code, column in form.languages().items()
    ]


@bp.get("/<slug>/preview")
@requires(Role.STAFF)
def preview(slug: str):
    """The story as its public page shows it, drafts included."""
    return story_page(any_story(slug) or abort(404))


@bp.post("/<slug>/publish")
@requires(Role.EDITOR)
def publish(slug: str):
    """Make a draft or archived story public."""
    return _step(slug, "publish", _("The story is published."))


# Steps that take a story away from the public: asked on a page first.
CONFIRMED_STEPS = ("archive", "unpublish")


@bp.route("/<slug>/archive", methods=["GET", "POST"])
@requires(Role.EDITOR)
def archive(slug: str):
    """Mark a campaign over: still readable at its address, no longer listed."""
    return _confirmed_step(slug, "archive", _("The story is archived."))


@bp.route("/<slug>/unpublish", methods=["GET", "POST"])
@requires(Role.EDITOR)
def unpublish(slug: str):
    """Take a story back to draft: nobody but organisers sees it."""
    return _confirmed_step(slug, "unpublish", _("The story is a draft again."))


def _confirmed_step(slug: str, step: str, done: str):
    """A step's confirmation page (GET), or the step itself (POST)."""
    if request.method == "GET":
        story = story_or_404(slug)
        return render_template("story/organiser/confirm.html", story=story, step=step)
    return _step(slug, step, done)


def _step(slug: str, step: str, done: str):
    """Take one step, or say why it is not possible now."""
    story = story_or_404(slug)
    try:
        editing.take_step(story, current_user, step)
    except editing.NotAllowedNow:
        return _not_now(story)
    flash(done)
    return redirect(url_for(".index"), 303)


@bp.post("/<slug>/feature")
@requires(Role.EDITOR)
def feature(slug: str):
    """Show this published story on the front page."""
    story = story_or_404(slug)
    try:
        editing.feature_story(story, current_user)
    except editing.NotAllowedNow:
        return _not_now(story)
    flash(_("The story is now on the front page."))
    return redirect(url_for(".index"), 303)


def _not_now(story):
    """The page saying a step does not fit the story's state (409)."""
    return render_error(
        409,
        _(
            "Not possible: the story's status is now %(state)s. Nothing was changed.",
            state=story.state.label,
        ),
    )
