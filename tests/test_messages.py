"""Every user-facing string goes through gettext, with real plurals.

Templates are read with Jinja's own lexer: text outside ``{{ }}``, ``{% %}``
and ``{% trans %}`` blocks is what a reader sees untranslated. Python modules
are read with ``ast``: flashed and raised messages, field labels and validator
messages must be gettext calls. The message catalogue is extracted with
Babel's API, offline, as ``make messages`` does. Also: the script has no words
of its own, every state organisers see has a label, and the site name and
banner are translated unless the operator words them.
"""

import ast
import re
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from flask import render_template_string
from flask_babel import force_locale
from jinja2 import Environment
from jinja2.ext import i18n

from campaign import create_app
from campaign.config import Config
from campaign.donate.models import DonationKind, DonationState, GiftState
from campaign.mailing.models import BroadcastState, DeliveryState, SubscriberState
from campaign.permissions import Role
from campaign.petition.models import SignatureState

ROOT = Path(__file__).parents[1]
TEMPLATES = ROOT / "templates"

# Proper names a reader sees as they are in every language: the share links
# name the services, whose brands are written the same in Dari and Pashto
# (and whose own apps show them so).
PROPER_NAMES = {"WhatsApp", "Telegram", "X", "Facebook"}
# Attributes a reader sees or hears (a screen reader reads aria-label).
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "label"}
# Stands in for each Jinja expression or translated block in the text.
HOLE = "\x00"


def template_paths() -> list[Path]:
    """Every page and email template."""
    return sorted(
        path for path in TEMPLATES.rglob("*") if path.suffix in {".html", ".txt"}
    )


def text_outside_gettext(source: str) -> str:
    """The template's literal text with every tag, expression and trans block
    replaced by a hole, so only untranslated text is left."""
    env = Environment(extensions=[i18n])
    out = StringIO()
    in_trans = False
    blocks: list[str] = []  # {% block %} names, innermost last
    tag: list[str] = []
    for _, kind, value in env.lex(source):
        if kind == "block_begin":
            tag = []
        elif kind == "name" and not tag:
            tag.append(value)
            if value == "block":
                blocks.append("")
            elif value == "endblock":
                blocks.pop()
            elif value == "trans":
                in_trans = True
            elif value == "endtrans":
                in_trans = False
        elif kind == "name" and tag == ["block"] and blocks and not blocks[-1]:
            blocks[-1] = value
        # A block like main_class fills an attribute: class names, not text.
        in_class = bool(blocks) and blocks[-1].endswith("class")
        if kind == "data" and not in_trans and not in_class:
            out.write(value)
        elif kind in {"variable_begin", "block_begin"} or (kind == "data" and in_trans):
            # Spaced, so a hole inside a tag (<p{{ attrs }}>) reads as an
            # attribute and one in text as a word of its own.
            out.write(f" {HOLE} ")
    return out.getvalue()


def has_words(text: str) -> bool:
    """True when the text holds a word a reader would need translated."""
    words = re.findall(r"[^\W\d_]+", text.replace(HOLE, " "))
    return any(word not in PROPER_NAMES for word in words)


class TextFinder(HTMLParser):
    """Collects visible text and visible attribute values from HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.hidden = 0  # inside <script> or <style>
        self.meta_description = False

    def handle_starttag(self, tag, attrs):
        """Check the attributes a reader sees or hears."""
        if tag in {"script", "style"}:
            self.hidden += 1
        attrs = dict(attrs)
        for name in VISIBLE_ATTRIBUTES & attrs.keys():
            if has_words(attrs[name] or ""):
                self.found.append(f"<{tag} {name}={attrs[name]!r}>")
        described = tag == "meta" and attrs.get("name") == "description"
        if described and has_words(attrs.get("content") or ""):
            self.found.append(f"<meta content={attrs['content']!r}>")
        button = tag == "input" and attrs.get("type") in {"submit", "button"}
        if button and has_words(attrs.get("value") or ""):
            self.found.append(f"<input value={attrs['value']!r}>")

    def handle_startendtag(self, tag, attrs):
        """A self-closed tag is checked like an opened one."""
        self.handle_starttag(tag, attrs)
        if tag in {"script", "style"}:
            self.hidden -= 1

    def handle_endtag(self, tag):
        """Leave a script or style."""
        if tag in {"script", "style"}:
            self.hidden -= 1

    def handle_data(self, data):
        """Check text between tags."""
        if not self.hidden and has_words(data):
            self.found.append(data.strip().replace(HOLE, "…"))


def untranslated(path: Path) -> list[str]:
    """What a reader would see in English whatever their language."""
    text = text_outside_gettext(path.read_text())
    if path.suffix == ".txt":
        return [
            line.strip().replace(HOLE, "…")
            for line in text.splitlines()
            if has_words(line)
        ]
    finder = TextFinder()
    finder.feed(text)
    finder.close()
    return finder.found


@pytest.mark.parametrize(
    "path", template_paths(), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_show_no_text_outside_gettext(path):
    assert untranslated(path) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("<p>Sign now</p>", ["Sign now"]),
        ('<img alt="A woman" src="x">', ["<img alt='A woman'>"]),
        ('<input placeholder="Your name">', ["<input placeholder='Your name'>"]),
        ('<a aria-label="Close" href="#">×</a>', ["<a aria-label='Close'>"]),
        ("<p>{{ _('Sign now') }} · {{ n }}</p>", []),
        ("<p>{% trans %}Sign now{% endtrans %}</p>", []),
        ("<p>{% trans n=1 %}{{ n }} one{% pluralize %}{{ n }} many{% endtrans %}", []),
        ("<a href='{{ u }}'>WhatsApp</a><script>let copy = 'Copy';</script>", []),
        ("{# a comment #}<b>{{ x }}</b> &middot; 42", []),
        ("<p{{ attrs }}>{{ x }}</p><span{{ a }}>Bare</span>", ["Bare"]),
    ],
)
def test_the_check_finds_bare_text(tmp_path, source, found):
    page = tmp_path / "page.html"
    page.write_text(source)
    assert untranslated(page) == found


def test_the_check_reads_email_text_line_by_line(tmp_path):
    email = tmp_path / "email.txt"
    email.write_text("{{ _('Hello') }}\n\n{{ url }}\nThanks\n")
    assert untranslated(email) == ["Thanks"]


# Python calls whose text a reader sees: flashed messages, errors raised for a
# form or a page, the labels and messages of form fields and validators.
SHOWN_CALLS = {"flash", "ValidationError", "AccountError", "AmountError", "abort"}
SHOWN_KEYWORDS = {"message", "label", "description", "invalid_value_message"}
FIELDS = re.compile(r"(Field|SelectChoice)$")
# Validators whose own message is wtforms' English (it has no Pashto), with
# the position of their message argument.
VALIDATORS = {
    "DataRequired": 0,
    "EqualTo": 1,
    "Length": 2,
    "NumberRange": 2,
    "Regexp": 2,
}


def bare_python_text(source: str) -> list[str]:
    """String literals a reader would see untranslated in a Python module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        shown = list(node.args[:1]) if name in SHOWN_CALLS else []
        if FIELDS.search(name):
            # A field's label is its first argument; a choice's, its second.
            shown = list(node.args[1:2] if name == "SelectChoice" else node.args[:1])
        shown += [kw.value for kw in node.keywords if kw.arg in SHOWN_KEYWORDS]
        worded = "message" in {kw.arg for kw in node.keywords}
        if name in VALIDATORS and not worded and len(node.args) <= VALIDATORS[name]:
            found.append(f"line {node.lineno}: {name} without a message")
        for value in shown:
            text = value.value if isinstance(value, ast.Constant) else None
            if isinstance(value, ast.JoinedStr) or (
                isinstance(text, str) and has_words(text)
            ):
                found.append(f"line {node.lineno}: {name}({ast.unparse(value)})")
    return found


@pytest.mark.parametrize(
    "path",
    # The command line speaks to the operator, in English.
    sorted(set((ROOT / "campaign").rglob("*.py")) - {ROOT / "campaign" / "cli.py"}),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_python_shows_no_text_outside_gettext(path):
    assert bare_python_text(path.read_text()) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('flash("Saved.")', ["line 1: flash('Saved.')"]),
        ('flash(f"{n} saved")', ["line 1: flash(f'{n} saved')"]),
        ('StringField("Name")', ["line 1: StringField('Name')"]),
        ('Length(max=3, message="Too long")', ["line 1: Length('Too long')"]),
        ('SelectChoice("a", "Apple")', ["line 1: SelectChoice('Apple')"]),
        ("Length(max=3)", ["line 1: Length without a message"]),
        ("DataRequired()", ["line 1: DataRequired without a message"]),
        ('Regexp("^a$")', ["line 1: Regexp without a message"]),
        ('DataRequired(_l("Enter it."))', []),
        ('Regexp("^a$", message=_l("Only a."))', []),
        ('flash(_("Saved."))', []),
        ('StringField(_l("Name"), render_kw={"placeholder": x})', []),
        ('SelectChoice("", _l("Any"))', []),
        ('HiddenField("", default="join")', []),
    ],
)
def test_the_python_check_finds_bare_text(source, found):
    assert bare_python_text(source) == found


# The keywords `make messages` passes to pybabel (Babel's defaults plus _l).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}


def extract() -> list[tuple[str | tuple[str, ...], str]]:
    """Every message and where it is, read as ``make messages`` reads them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return [
        (message, f"{filename}:{lineno}")
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    ]


@pytest.fixture(scope="module")
def messages() -> list[tuple[str | tuple[str, ...], str]]:
    """The extracted messages."""
    return extract()


def test_extraction_finds_real_plurals(messages):
    plurals = [message for message, _ in messages if isinstance(message, tuple)]
    assert len(plurals) >= 10, plurals
    words = " ".join(" ".join(forms[:2]) for forms in plurals)
    for noun in ("signatures", "people", "days", "characters", "codes"):
        assert noun in words, noun


def test_no_message_is_empty(messages):
    def forms(message):
        return message if isinstance(message, tuple) else (message,)

    empty = [
        where
        for message, where in messages
        if not all(form.strip() for form in forms(message) if form is not None)
    ]
    assert empty == []


def test_the_site_name_and_banner_defaults_are_messages(messages):
    found = {message for message, _ in messages}
    assert {Config.SITE_NAME, Config.DONATE_BANNER} <= found


def test_the_script_holds_no_words_of_its_own():
    """Words the script shows come from the page (data- attributes, labels),
    so it needs no translation: its string literals are selectors, types
    and attribute names, never capitalised text."""
    script = (ROOT / "static" / "js" / "campaign.js").read_text()
    script = re.sub(r"^\s*//.*$", "", script, flags=re.M)
    literals = re.findall(r"\"([^\"\\]*)\"", script)
    # DOM event names are the browser's words, not the reader's.
    wording = [text for text in literals if re.search(r"[A-Z][a-z]+|[a-z] [a-z]", text)]
    assert set(wording) <= {"DOMContentLoaded", "use strict"}


def site(tmp_path, **config):
    """An app whose Pashto catalogue (made here) translates the default name."""
    folder = tmp_path / "translations" / "ps" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="ps")
    catalog.add(Config.SITE_NAME, "د افغان ښځو ملاتړ")
    catalog.add(Config.DONATE_BANNER, "د ERA ملاتړ وکړئ")
    # An operator's words that happen to be a message elsewhere stay theirs.
    catalog.add("Give today", "not the operator's words")
    with (folder / "messages.mo").open("wb") as mo:
        write_mo(mo, catalog)
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'site.db'}",
            "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path / "translations"),
            **config,
        }
    )


def shown(app, locale: str) -> str:
    """The site name and banner as a page in ``locale`` shows them."""
    with app.test_request_context("/"), force_locale(locale):
        return render_template_string("{{ site_name }} | {{ donate_banner }}")


def test_the_default_site_name_and_banner_are_translated(tmp_path):
    app = site(tmp_path)
    assert shown(app, "ps") == "د افغان ښځو ملاتړ | د ERA ملاتړ وکړئ"
    assert shown(app, "en") == "Stand with Afghan Women | Support the ERA"


def test_an_operators_own_name_is_shown_as_set_unless_a_language_has_its_own(
    tmp_path,
):
    app = site(
        tmp_path,
        SITE_NAME="Women of Herat",
        DONATE_BANNER="Give today",
        SITE_NAME_PS="د هرات ښځې",
        DONATE_BANNER_FA_AF="امروز کمک کنید",
    )
    assert shown(app, "en") == "Women of Herat | Give today"
    assert shown(app, "ps") == "د هرات ښځې | Give today"
    assert shown(app, "fa_AF") == "Women of Herat | امروز کمک کنید"


@pytest.mark.parametrize(
    "states",
    [
        SignatureState,
        SubscriberState,
        BroadcastState,
        DeliveryState,
        DonationState,
        DonationKind,
        GiftState,
        Role,
    ],
)
def test_every_state_organisers_see_has_a_label(tmp_path, states):
    with site(tmp_path).test_request_context("/"):
        labels = [str(member.label) for member in states]
        assert SignatureState.VALIDATED.label == "Confirmed"  # the dashboard's
    assert all(labels) and len(set(labels)) == len(labels)
