"""Extensions, created unbound; `create_app` binds them to an app."""

from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from crp_portal.timeutil import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Named constraints, so migrations read the same on SQLite and PostgreSQL."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def render_migration_item(type_, obj, autogen_context):
    """Write our UTCDateTime as a plain timestamptz so migrations import nothing of ours."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


db = SQLAlchemy(model_class=Base)

# The models' base class. mypy cannot take a base class from an attribute such as
# `db.Model` (python/mypy#8603), so it is told the declarative Base that db.Model extends.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_migration_item)
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_limiter(app) -> None:
    """Bind the limiter, without its check before every request while nothing needs it.

    Every limit the portal sets is a decorator on the view it guards (sign-in, password
    reset, emailed links, check-in codes, unsubscribing), and that decorator checks it.
    Flask-Limiter's before-request hook checks only default, application-wide and meta
    limits, which the portal does not set, yet walks the limiter's tables on every request
    (`/healthz` and every page included). So it is unhooked unless such limits are
    configured. Its after-request hook stays: it counts the limits that only count
    failures (`deduct_when`)."""
    limiter.init_app(app)
    manager = limiter.limit_manager
    shared = manager.default_limits or manager.application_limits
    if shared or app.config.get("RATELIMIT_META"):
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)
