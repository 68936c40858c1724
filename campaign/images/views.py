"""Image routes: the files themselves (public, from our own origin) and the
organiser page where an editor sets, changes or removes a story's image."""

from dataclasses import dataclass

from babel import Locale
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from campaign.edge import accepts_files, max_body
from campaign.forms import render_form
from campaign.i18n import language_tag
from campaign.images import services
from campaign.images.forms import image_form, megabytes
from campaign.images.processing import CARD_SIZE, ImageRefused
from campaign.permissions import Role, requires
from campaign.static_files import IMMUTABLE
from campaign.story.services import get_story
from campaign.urls import external_url

bp = Blueprint("images", __name__)
organiser_bp = Blueprint("images_organiser", __name__, url_prefix="/organiser")
# Room for the form's text fields and multipart framing beside the file.
FORM_ALLOWANCE = 64 * 1024


# The version is the image's content hash: a changed image has new URLs.
FILE = "/images/<int:image_id>-<string(length=16):version>"


@bp.get(FILE + "-<int:width>.<any(webp, jpg):ext>")
def rendition(image_id: int, version: str, width: int, ext: str):
    """One width of an image, in WebP or JPEG."""
    kind = "webp" if ext == "webp" else "jpeg"
    return _file(services.rendition(image_id, version, kind, width))


@bp.get(FILE + "-card.jpg")
def card(image_id: int, version: str):
    """The image's 1200×630 social card (og:image)."""
    return _file(services.rendition(image_id, version, "card", 1200))


def _file(found):
    """The file with year-long caching (its URL names its version), or 404."""
    if found is None:
        abort(404)
    content_type, digest, data = found
    response = current_app.response_class(data, mimetype=content_type)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(digest)
    return response.make_conditional(request)


@dataclass(frozen=True)
class ShownImage:
    """An image as a page in the current language shows it."""

    width: int
    height: int
    alt: str
    alt_lang: str  # the alt text's language (BCP 47) and direction
    alt_dir: str
    src: str
    jpeg_srcset: str
    webp_srcset: str
    card_url: str  # absolute, for og:image
    card_width: int = CARD_SIZE[0]
    card_height: int = CARD_SIZE[1]


@bp.app_template_global()
def story_image(image_id: int | None) -> ShownImage | None:
    """The image a page shows: its files' URLs, the alt text in the page's
    language (the default language's where it has none)."""
    image = services.public_image(image_id)
    if image is None:
        return None
    locale, alt = image.alt(str(get_locale()))

    def url(width: int, ext: str) -> str:
        """One rendition's URL."""
        values = {"image_id": image.id, "version": image.version}
        return url_for("images.rendition", width=width, ext=ext, **values)

    def srcset(ext: str) -> str:
        """Every width's URL with its width descriptor."""
        return ", ".join(f"{url(w, ext)} {w}w" for w in image.widths)

    return ShownImage(
        image.width,
        image.height,
        alt,
        language_tag(locale),
        Locale.parse(locale).text_direction,
        url(image.widths[-1], "jpg"),
        srcset("jpg"),
        srcset("webp"),
        external_url("images.card", image_id=image.id, version=image.version),
    )


def upload_limit() -> int:
    """The upload page's body limit: the largest image and the form."""
    return current_app.config["IMAGE_MAX_BYTES"] + FORM_ALLOWANCE


def story_or_404(slug: str):
    """The story with this slug, or a 404 page."""
    return get_story(slug) or abort(404)


@organiser_bp.route("/stories/<slug>/image", methods=["GET", "POST"])
@requires(Role.EDITOR)
@accepts_files("image")
@max_body(upload_limit)
def story_image_page(slug: str):
    """Upload a story's header image, or change its alt texts."""
    story = story_or_404(slug)
    current = services.story_image_row(story)
    initial = {}
    if current is not None and request.method == "GET":
        initial = {"alt_text": current.alt_text}
        initial |= {f"alt_{k}": v for k, v in (current.alt_texts or {}).items()}
    form = image_form(data=initial or None, has_image=current is not None)
    if form.validate_on_submit():
        try:
            if form.upload is not None:
                services.set_story_image(
                    story,
                    form.upload,
                    form.alt_text.data,
                    form.alt_texts(),
                    current_user,
                )
                flash(_("The image is saved."))
            elif services.change_alt_texts(
                story, form.alt_text.data, form.alt_texts(), current_user
            ):
                flash(_("The alt text is saved."))
            else:  # the image was removed meanwhile
                flash(_("The story has no image now: choose one to upload."))
            return redirect(url_for(".story_image_page", slug=slug))
        except ImageRefused as refused:
            form.image.errors = [refused.message]
    return render_form(
        "images/organiser/story_image.html",
        form,
        story=story,
        image=story_image(story.image_id),
        max_megabytes=megabytes(current_app.config["IMAGE_MAX_BYTES"]),
    )


@organiser_bp.post("/stories/<slug>/image/remove")
@requires(Role.EDITOR)
def remove_story_image(slug: str):
    """Remove the story's image: its files stop being served."""
    story = story_or_404(slug)
    if services.remove_story_image(story, current_user):
        flash(_("The image is removed."))
    return redirect(url_for(".story_image_page", slug=slug))
