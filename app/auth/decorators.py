"""Access decorators for web pages (the API has `app.api.api_auth`)."""

import functools

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str):
    """Signed-in users of one of ``roles``; anyone else signed in gets the 403 page."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


admin_only = role_required("admin")
seller_only = role_required("seller")
buyer_only = role_required("buyer")
