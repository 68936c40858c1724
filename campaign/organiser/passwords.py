"""Organiser password strength: long enough and not guessable (zxcvbn)."""

from flask_babel import gettext as _
from flask_babel import ngettext
from zxcvbn import zxcvbn

from campaign.i18n.numbers import format_number

MIN_LENGTH = 12
# zxcvbn's 0-4 scale: 3 is "safely unguessable" against an online attack and
# resists an offline one for a while; 2 and below fall to common dictionaries.
MIN_SCORE = 3
# The estimate's cost grows with length and zxcvbn refuses more than 72
# characters (its default max_length); the first 72 tell whether a
# passphrase is guessable.
ESTIMATE_LENGTH = 72


def _reason(match: dict) -> str:
    """Why the weakest part of a password makes it guessable, in our words."""
    pattern = match["pattern"]
    if pattern == "dictionary":
        if match.get("dictionary_name") == "user_inputs":
            return _(
                "Too easy to guess: it contains your email address or the site's name."
            )
        if match.get("dictionary_name") == "passwords":
            return _("Too easy to guess: it is a common password.")
        return _("Too easy to guess: it is made of a few common words or names.")
    if pattern == "repeat":
        return _(
            "Too easy to guess: it repeats characters or words (like aaa or abcabc)."
        )
    if pattern == "sequence":
        return _("Too easy to guess: it is a sequence (like abcd or 6543).")
    if pattern == "spatial":
        return _("Too easy to guess: it is a keyboard pattern (like qwerty).")
    if pattern in {"date", "regex"}:
        return _("Too easy to guess: it is mostly a date or a year.")
    return _("Too easy to guess: add a few more uncommon words.")


def password_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str | None:
    """What is wrong with a new password, or None if it is strong enough."""
    if len(password) < MIN_LENGTH:
        return ngettext(
            "Use at least %(count)s character.",
            "Use at least %(count)s characters.",
            MIN_LENGTH,
            count=format_number(MIN_LENGTH),
        )
    result = zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=list(user_inputs))
    if result["score"] >= MIN_SCORE:
        return None
    # Like zxcvbn's own feedback: the longest guessable part explains the score.
    guessable = [m for m in result["sequence"] if m["pattern"] != "bruteforce"]
    if not guessable:
        return _("Too easy to guess: add a few more uncommon words.")
    return _reason(max(guessable, key=lambda m: len(m["token"])))
