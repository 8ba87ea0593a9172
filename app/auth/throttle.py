"""Log-in throttling: failures per email, on top of Flask-Limiter's per-address limits.

Limits (documented in the README): 5 failed log-ins per email per 15 minutes, 30 log-in
attempts per address per minute, 10 sign-ups per address per hour. The per-address limits are
shared limits: the web form and the API count against one counter, so neither is a way around
the other. The address is the client's, read through ``TRUSTED_PROXIES`` proxies (ProxyFix in
create_app). Counters live in the limiter's storage: memory by default, Redis when
``REDIS_URL`` is set.
"""

from limits import parse

from app.errors import AppError
from app.extensions import limiter

LOGIN_PER_IP = "30 per minute"
SIGNUP_PER_IP = "10 per hour"
FAILURES_PER_EMAIL = parse("5 per 15 minutes")

# Decorators for the web and API routes; GETs of the forms are not counted.
signup_per_ip = limiter.shared_limit(SIGNUP_PER_IP, scope="signup", methods=["POST"])
login_per_ip = limiter.shared_limit(LOGIN_PER_IP, scope="login", methods=["POST"])


class TooManyAttempts(AppError):
    status_code = 429
    code = "rate_limited"
    message = "Too many failed log-ins for this account; wait 15 minutes and try again."


def _key(email: str) -> str:
    return email.strip().lower()[:320]


def check_login_allowed(email: str) -> None:
    if limiter.enabled and not limiter.limiter.test(FAILURES_PER_EMAIL, "login-fail", _key(email)):
        raise TooManyAttempts()


def record_login_failure(email: str) -> None:
    if limiter.enabled:
        limiter.limiter.hit(FAILURES_PER_EMAIL, "login-fail", _key(email))
