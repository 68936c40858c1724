"""Who may call which organiser route: the roles and the decorator that says so.

Every organiser view declares its role where it is defined, with
``@requires(Role.X)`` (or ``@public`` for sign-in itself); the permission
test walks ``app.url_map`` and fails on an organiser route that declares
neither. Responses of declared views are never cached: they hold
supporters' data.
"""

import enum
import functools

from flask import Flask, abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

# The attribute a declared view carries: its Role, or None for public views.
DECLARED = "required_role"


class Role(enum.Enum):
    """What an organiser may do; each role includes those ranked below it."""

    ADMIN = "admin"  # accounts, roles, erasure, settings, and everything below
    EDITOR = "editor"  # petitions and stories, broadcasts: write, test, send
    STAFF = "staff"  # read dashboards, export, moderate

    @property
    def rank(self) -> int:
        """Higher ranks include the rights of lower ones."""
        return {Role.STAFF: 1, Role.EDITOR: 2, Role.ADMIN: 3}[self]

    @property
    def label(self) -> str:
        """What organisers read for this role."""
        return ROLE_LABELS[self]

    def allows(self, needed: "Role") -> bool:
        """Whether an organiser with this role may do what ``needed`` guards."""
        return self.rank >= needed.rank


ROLE_LABELS = {
    Role.ADMIN: _l("Admin"),
    Role.EDITOR: _l("Editor"),
    Role.STAFF: _l("Staff"),
}


def requires(role: Role):
    """Declare the role a view needs: anonymous visitors are sent to sign in
    (401 for data requests), organisers with a lower role get 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not current_user.role.allows(role):
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, DECLARED, role)
        return wrapped

    return decorate


def public(view):
    """Declare an organiser route open to anyone (sign-in itself)."""
    setattr(view, DECLARED, None)
    return view


def declared_role(view) -> Role | None:
    """The role a view declares (None: public); AttributeError if it declares
    nothing."""
    return getattr(view, DECLARED)


def is_declared(view) -> bool:
    """Whether a view states who may call it."""
    return hasattr(view, DECLARED)


def may(endpoint: str) -> bool:
    """Whether the signed-in organiser may call ``endpoint`` (for templates, so
    a page offers only the actions its reader is allowed)."""
    role = declared_role(current_app.view_functions[endpoint])
    if role is None:
        return True
    return current_user.is_authenticated and current_user.role.allows(role)


def register(app: Flask) -> None:
    """Offer ``may()`` to templates; keep every declared (organiser) response
    out of browser and proxy caches."""
    app.jinja_env.globals["may"] = may

    @app.after_request
    def never_cache(response):
        """Organiser pages hold supporters' data: no browser or proxy keeps them."""
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and is_declared(view):
            response.cache_control.no_store = True
            response.cache_control.private = True
        return response
