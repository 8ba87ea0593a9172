"""Flask extensions, created unbound here and bound to an app in create_app.

``db`` lives in app/db.py beside its declarative base; it is re-exported here so the app's
extensions are importable from one place.
"""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from app.db import db

__all__ = ["csrf", "db", "limiter", "login_manager", "migrate"]

migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
csrf = CSRFProtect()
