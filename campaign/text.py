"""Text helpers shared by features: Markdown, front matter, names, addresses."""

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


def render_markdown(source: str) -> str:
    """Render trusted Markdown (content files, organisers) to HTML."""
    # Imported when needed: only seeding and editing render, and every
    # command (an export, say) would otherwise pay for the import.
    import markdown

    return markdown.markdown(source, extensions=["sane_lists"], output_format="html")


def read_content(name: str) -> tuple[dict, str]:
    """Split a content file into its YAML front matter and Markdown body."""
    import yaml  # only seeding reads content files

    text = (CONTENT_DIR / name).read_text(encoding="utf-8")
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
