"""HTML fragments that are the same for every visitor: rendered once per
locale (and whatever else their key names), then one lookup per page."""

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

STORE = "campaign.fragments"
# Keys that hold a changing value (a count) could pile up; past this many the
# store starts again, which costs one render of each fragment.
LIMIT = 4096


def kept(key, render) -> Markup:
    """The HTML kept under ``key`` in this app, rendered by ``render()`` once."""
    store = current_app.extensions.setdefault(STORE, {})
    html = store.get(key)
    if html is None:
        if len(store) >= LIMIT:
            store.clear()
        html = store[key] = Markup(render())  # noqa: S704 - rendered
    return html


def kept_already(key) -> Markup | None:
    """The HTML kept under ``key``, if it was rendered already."""
    return current_app.extensions.get(STORE, {}).get(key)


def macro_code(render):
    """What names a Jinja macro across renders (its compiled code)."""
    return getattr(getattr(render, "_func", render), "__code__", render)


def per_locale(render, *args) -> Markup:
    """``render(*args)`` kept per macro, arguments and locale: for a macro
    whose HTML depends on nothing else (``progress(count, goal)``)."""
    key = (macro_code(render), args, str(get_locale()))
    return kept(key, lambda: render(*args))


def register(app) -> None:
    """Give templates ``per_locale``."""
    app.jinja_env.globals["per_locale"] = per_locale
