"""Dari and Pashto catalogues: every message the site can show is translated,
in the script the language is written in, with its placeholders kept."""

import re

import pytest
from babel.messages.pofile import read_po

from tests.test_messages import ROOT, extract

LOCALES = ["fa_AF", "ps"]
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}")
# Names written in Latin letters in any language.
NAMES = re.compile(r"\b(UTC|CSV|JSON|Stripe|TOTP|QR|PDF|ERA|WhatsApp|Telegram)\b")


def words(text: str) -> str:
    """A message's own words: without its placeholders and Latin-letter names."""
    return NAMES.sub("", PLACEHOLDER.sub("", text))


@pytest.fixture(scope="module")
def wanted() -> dict[str, str]:
    """Each message the code and templates ask for (by its singular form)."""
    found = {}
    for message, where in extract():
        singular = message[0] if isinstance(message, tuple) else message
        found.setdefault(singular, where)
    return found


def catalogue(locale: str):
    """The committed catalogue for ``locale``."""
    path = ROOT / "campaign" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def forms(value) -> tuple[str, ...]:
    """A message's or translation's forms as a tuple."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def placeholders(text: str) -> set[str]:
    """The named holes in a message (``%(name)s`` and ``{name}``)."""
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale, wanted):
    po = catalogue(locale)
    missing = []
    for msgid, where in wanted.items():
        entry = po.get(msgid)
        if entry is None or entry.fuzzy or not all(forms(entry.string)):
            missing.append(f"{where}: {msgid!r}")
    assert missing == [], f"{len(missing)} messages lack a {locale} translation"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_are_written_in_arabic_script(locale):
    """A msgstr copied from the English (or left in Latin letters) is caught."""
    latin_only = [
        entry.id
        for entry in catalogue(locale)
        if entry.id
        and re.search(r"[A-Za-z]{3}", words(forms(entry.id)[0]))
        and not all(ARABIC_SCRIPT.search(form or "") for form in forms(entry.string))
    ]
    assert latin_only == []


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_every_placeholder(locale):
    po = catalogue(locale)
    wrong = []
    for entry in po:
        if not entry.id:
            continue
        asked = set().union(*(placeholders(f) for f in forms(entry.id)))
        for form in forms(entry.string):
            # A plural form may leave the number out ("one signature"), never
            # add a hole the code does not fill.
            given = placeholders(form or "")
            if not given <= asked or (len(forms(entry.id)) == 1 and given != asked):
                wrong.append((entry.id, form))
    assert wrong == []


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_messages_have_every_form_the_language_needs(locale):
    po = catalogue(locale)
    short = [
        entry.id
        for entry in po
        if isinstance(entry.id, (tuple, list))
        and len([f for f in forms(entry.string) if f]) != po.num_plurals
    ]
    assert short == []


@pytest.mark.parametrize("locale", LOCALES)
def test_each_message_is_in_the_catalogue_once(locale):
    # Branches append entries and merge by union (.gitattributes): a message
    # two branches added would be there twice, one translation silently lost.
    path = ROOT / "campaign" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    text = path.read_text(encoding="utf-8")
    ids = re.findall(r'^msgid ((?:".*"\n)+)', text, re.M)
    repeated = sorted({msgid for msgid in ids if ids.count(msgid) > 1})
    assert repeated == []
