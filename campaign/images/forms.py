"""The header-image form: the file, the required alt text, and an optional
alt text for each other site language."""

from babel import Locale
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import DataRequired, Optional, ValidationError

from campaign.forms import at_most, lazy_number, plain_text, strip
from campaign.i18n import language_tag, own_name

ALT_MAX = 300  # a sentence or two: longer descriptions belong in the text
# What the file picker offers (the server decodes to check, whatever it says).
ACCEPT = "image/jpeg,image/png,image/webp"


def megabytes(size: int):
    """``size`` bytes in whole megabytes, in the reader's digits."""
    return lazy_number(max(1, round(size / 1_000_000)))


class ImageForm(FlaskForm):
    """A story's header image and what it shows, in words."""

    image = FileField(
        _l("Image file (JPEG, PNG or WebP)"), render_kw={"accept": ACCEPT}
    )
    alt_text = StringField(
        _l("Alt text: what the image shows"),
        filters=[strip],
        validators=[
            DataRequired(
                _l(
                    "Describe what the image shows, for people who cannot "
                    "see it (alt text)."
                )
            ),
            at_most(ALT_MAX),
            plain_text,
        ],
        render_kw={"maxlength": ALT_MAX},
    )

    def __init__(self, *args, has_image: bool = False, **kwargs):
        """``has_image``: the story has one, so the file may be left out
        (only the alt texts change)."""
        super().__init__(*args, **kwargs)
        self.has_image = has_image
        self.upload: bytes | None = None

    def validate_image(self, field) -> None:
        """A file unless only the alt texts change; within IMAGE_MAX_BYTES."""
        if not field.data:
            if not self.has_image:
                raise ValidationError(_l("Choose an image file to upload."))
            return
        limit = current_app.config["IMAGE_MAX_BYTES"]
        data = field.data.stream.read(limit + 1)
        if len(data) > limit:
            raise ValidationError(
                _l(
                    "This file is larger than %(size)s MB. Choose a smaller image.",
                    size=megabytes(limit),
                )
            )
        if not data:
            raise ValidationError(_l("This file is empty. Choose an image file."))
        self.upload = data

    def alt_fields(self):
        """The other languages' alt text fields."""
        return [self[name] for name in self._alt_names]

    def alt_texts(self) -> dict[str, str]:
        """``{locale: alt text}`` for the other languages (blank ones too)."""
        return {name[len("alt_") :]: self[name].data or "" for name in self._alt_names}


def image_form(*args, **kwargs) -> ImageForm:
    """The form, with an alt text field per site language besides the default."""
    config = current_app.config
    others = [
        locale
        for locale in config["LANGUAGES"]
        if locale != config["BABEL_DEFAULT_LOCALE"]
    ]
    fields = {f"alt_{locale}": _alt_field(locale) for locale in others}
    fields["_alt_names"] = tuple(fields)
    form_class = type("StoryImageForm", (ImageForm,), fields)
    return form_class(*args, **kwargs)


def _alt_field(locale: str) -> StringField:
    """An optional alt text in ``locale``, typed in its script and direction."""
    return StringField(
        _l("Alt text in %(language)s (optional)", language=own_name(locale)),
        filters=[strip],
        validators=[Optional(), at_most(ALT_MAX), plain_text],
        render_kw={
            "maxlength": ALT_MAX,
            "lang": language_tag(locale),
            "dir": Locale.parse(locale).text_direction,
        },
    )
