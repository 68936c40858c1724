"""The organisers' story form: the shared facts, and the words in each of the
site's languages side by side (English required, the others optional).
Syntax rules only; the slug's uniqueness is the service's."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Form, FormField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from campaign.forms import BAD_DATE, at_most, plain_text, strip
from campaign.localised import ORIGINAL, lang_and_dir, language_name
from campaign.slugs import SLUG_MAX, lowercase, slug_field_check
from campaign.story.editing import StoryText

# Field limits: three languages' bodies fit ORGANISER_MAX_CONTENT_LENGTH even
# in a script of two-byte letters, each escaped to six bytes.
TITLE_MAX = 300
KICKER_MAX = 120
SUMMARY_MAX = 1_000
BODY_MAX = 25_000
SOURCES_MAX = 2_000


class StoryFacts(FlaskForm):
    """What the story has once, whatever the language."""

    slug = StringField(
        _l("Web address (slug)"),
        description=_l(
            "Lower-case letters, digits and hyphens, as in the address "
            "/stories/your-slug. Leave it empty to make one from the title."
        ),
        filters=[strip, lowercase],
        validators=[Optional(), at_most(SLUG_MAX), slug_field_check],
        render_kw={
            "maxlength": SLUG_MAX,
            "dir": "ltr",
            "autocomplete": "off",
            "aria-describedby": "slug-help",
        },
    )
    published_on = DateField(
        _l("Date shown on the story"),
        default=date.today,
        validators=[DataRequired(BAD_DATE)],
        invalid_value_message=BAD_DATE,
    )

    def languages(self) -> dict[str, FormField]:
        """Each language's words, English first, by locale."""
        return {
            name.removeprefix("text_"): found
            for name, found in self._fields.items()
            if name.startswith("text_")
        }

    def fill(self, texts: dict[str, StoryText | None]) -> None:
        """Show saved words in each language's fields (on a fresh page)."""
        for locale, column in self.languages().items():
            text = texts.get(locale)
            if text is not None:
                column.form.title.data = text.title
                column.form.kicker.data = text.kicker
                column.form.summary.data = text.summary
                column.form.body_markdown.data = text.body_markdown
                column.form.sources.data = "\n".join(text.sources)

    def texts(self) -> dict[str, StoryText | None]:
        """The words in each language; None where a translation was left empty."""
        return {
            locale: column.form.text() for locale, column in self.languages().items()
        }


class Words(Form):
    """A story's words in one language (fields from ``words_form``)."""

    required = False  # English: title and text required; others: both or none

    def validate(self, extra_validators=None) -> bool:
        """Each field's rules; a translation has a title and text, or nothing."""
        valid = super().validate(extra_validators)
        if self.required or self.is_empty():
            return valid
        for needed in (self.title, self.body_markdown):
            if not needed.data:
                needed.errors = [*needed.errors, BOTH_OR_NEITHER]
                valid = False
        return valid

    def is_empty(self) -> bool:
        """Whether every field was left empty (no translation)."""
        return not any(f.data for f in self)

    def text(self) -> StoryText | None:
        """These words, or None when left empty."""
        if self.is_empty() and not self.required:
            return None
        sources = [line.strip() for line in (self.sources.data or "").splitlines()]
        return StoryText(
            title=self.title.data or "",
            kicker=self.kicker.data or "",
            summary=self.summary.data or "",
            body_markdown=self.body_markdown.data or "",
            sources=[source for source in sources if source],
        )


BOTH_OR_NEITHER = _l(
    "Write both the title and the text in this language, or leave all its fields empty."
)


def words_form(code: str) -> type[Words]:
    """The fields of one language's column, marked with its ``lang`` and ``dir``."""
    attributes = lang_and_dir(code)
    required = code == ORIGINAL
    presence = [DataRequired(_l("Give the story a title."))] if required else []
    body_presence = [DataRequired(_l("Write the story."))] if required else []

    class LanguageWords(Words):
        title = StringField(
            _l("Title"),
            filters=[strip],
            validators=[*presence, at_most(TITLE_MAX), plain_text],
            render_kw={"maxlength": TITLE_MAX, **attributes},
        )
        kicker = StringField(
            _l("Kicker (the line above the title)"),
            filters=[strip],
            validators=[at_most(KICKER_MAX), plain_text],
            render_kw={"maxlength": KICKER_MAX, **attributes},
        )
        summary = TextAreaField(
            _l("Summary (for share cards and the campaigns page)"),
            filters=[strip],
            validators=[at_most(SUMMARY_MAX), plain_text],
            render_kw={"rows": 3, **attributes},
        )
        body_markdown = TextAreaField(
            _l("Story (Markdown)"),
            filters=[strip],
            validators=[*body_presence, at_most(BODY_MAX), plain_text],
            render_kw={"rows": 20, **attributes},
        )
        sources = TextAreaField(
            _l("Sources (one a line)"),
            filters=[strip],
            validators=[at_most(SOURCES_MAX), plain_text],
            render_kw={"rows": 2, **attributes},
        )

    LanguageWords.required = required
    return LanguageWords


def story_form(languages: list[str], **kwargs) -> StoryFacts:
    """The story form with a column for each of ``languages`` (English first)."""

    class StoryForm(StoryFacts):
        pass

    for code in [ORIGINAL, *[code for code in languages if code != ORIGINAL]]:
        column = FormField(words_form(code), label=language_name(code))
        setattr(StoryForm, f"text_{code}", column)
    return StoryForm(**kwargs)
