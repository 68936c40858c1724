"""Unbound extension objects, bound to the app in ``create_app``.

Flask-Migrate is bound on first use instead (see migrations.py).
"""

from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so later migrations can alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
mail = Mail()
babel = Babel()
login_manager = LoginManager()
# Public pages, CSS and JS, brotli/zstd/gzip as the client accepts; applied by
# http_cache.py and static_files.py only (COMPRESS_REGISTER is off), so pages
# holding a CSRF token are never compressed (BREACH).
compress = Compress()
login_manager.login_view = "organiser.login"
login_manager.session_protection = "basic"
# Per-process by default: hot, read-mostly values (a petition's id, its count).
cache = Cache()
# ProxyFix has already put the real client address in remote_addr.
limiter = Limiter(key_func=get_remote_address, strategy="fixed-window")
