"""Text helpers shared by features: Markdown, front matter, names, addresses."""

import re
import unicodedata
from pathlib import Path

CONTENT_DIR = Path(__file__).parent / "content"
# Providers that deliver "a.b+tag@" to "ab@": one person, one signature.
DOTLESS_DOMAINS = {"gmail.com", "googlemail.com"}
PLUS_TAG_DOMAINS = DOTLESS_DOMAINS | {
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "protonmail.com",
    "proton.me",
    "fastmail.com",
}


# What organiser Markdown may produce: text structure, links, same-site images.
# Anything else (script, style, iframe, forms, event handlers, javascript: or
# data: URLs) is dropped, so a stolen organiser account cannot run code on
# public pages or in supporters' mail.
ALLOWED_TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote"),
    *("ul", "ol", "li", "dl", "dt", "dd", "pre", "code", "kbd", "samp"),
    *("a", "strong", "em", "b", "i", "u", "s", "del", "ins", "mark", "small"),
    *("sub", "sup", "abbr", "cite", "q", "bdi", "bdo", "span", "img"),
    *("table", "thead", "tbody", "tr", "th", "td", "caption"),
}
ALLOWED_ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str) -> str:
    """Render Markdown (content files, organisers) to HTML safe to show anyone."""
    # Imported when needed: only seeding and editing render, and every
    # command (an export, say) would otherwise pay for the import.
    import markdown
    import nh3

    html = markdown.markdown(source, extensions=["sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_same_site_images,
        link_rel="noopener noreferrer",
    )


def _same_site_images(tag: str, attribute: str, value: str) -> str | None:
    """Images only from this site: another site's would learn who reads."""
    if tag == "img" and attribute == "src" and not SAME_SITE_PATH.match(value):
        return None
    return value


SAME_SITE_PATH = re.compile(r"^/(?![/\\])")
# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) can
# make a name or comment read differently from what it holds, or flip the text
# shown after it; zero-width space, word joiner and BOM (U+200B, U+2060,
# U+FEFF) make two names look alike. None is needed in a name or comment.
INVISIBLE = re.compile("[\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
# ZWNJ (U+200C) is a real letter in Persian/Dari and Pashto ("می‌خواهم": it
# stops two letters joining) and ZWJ (U+200D) in Indic scripts, so they are
# kept where they do that work, between two letters (or a letter's marks),
# and removed anywhere else (at the ends, beside spaces or punctuation, in
# runs), where they could only hide something.
JOINERS = re.compile("[\u200c\u200d]+")


def visible(text: str | None) -> str | None:
    """Text without bidi controls and stray zero-width characters."""
    if not text:
        return text
    text = INVISIBLE.sub("", text)
    if "\u200c" in text or "\u200d" in text:
        text = JOINERS.sub(_keep_joiner, text)
    return text


def _keep_joiner(match: re.Match) -> str:
    """One joiner between two letters; nothing anywhere else."""
    text, start, end = match.string, match.start(), match.end()
    between = _is_letter(text[start - 1 : start]) and _is_letter(text[end : end + 1])
    return match.group()[-1] if between else ""


def _is_letter(char: str) -> bool:
    """Whether a character is a letter or a mark on one (Unicode L* or M*)."""
    return bool(char) and unicodedata.category(char)[0] in "LM"


def read_content(name: str, content_dir: Path = CONTENT_DIR) -> tuple[dict, str]:
    """Split a content file into its YAML front matter and Markdown body."""
    import yaml  # only seeding reads content files

    text = (content_dir / name).read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body.strip() + "\n"


def first_name(name: str) -> str:
    """The part of a name shown publicly: the first word only."""
    parts = name.split()
    return parts[0] if parts else ""


def canonical_email(email: str) -> str:
    """One address per mailbox: lower-cased, dots and +tags removed where ignored."""
    local, _, domain = email.strip().lower().rpartition("@")
    if domain in PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def shorten(text: str | None, limit: int) -> str | None:
    """Text cut to at most ``limit`` characters at a word break, with "…"."""
    if not text or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"
