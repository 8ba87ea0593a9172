"""Web pages for signing up, logging in and out, and the account page."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_remembered, login_required, logout_user

from app.auth import services, sessions, throttle
from app.auth.forms import ChangePasswordForm, LoginForm, SignupForm
from app.errors import Invalid
from app.web.forms import errors_onto_form

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let phishing links borrow our domain.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("web.dashboard")


@bp.route("/signup", methods=["GET", "POST"])
@throttle.signup_per_ip
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = services.signup(
                email=form.email.data,
                password=form.password.data,
                organization_name=form.organization_name.data,
                kind=form.kind.data,
            )
        except services.EmailTaken as exc:
            form.email.errors.append(exc.message)
        except Invalid as exc:
            errors_onto_form(form, exc.details, default="email")
        else:
            sessions.start(user)
            flash(f"Welcome to Leadex, {user.organization.name}.", "success")
            return redirect(url_for("web.dashboard"))
    return render_template("auth/signup.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
@throttle.login_per_ip
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        throttle.check_login_allowed(form.email.data)
        try:
            user = services.authenticate(email=form.email.data, password=form.password.data)
        except services.InvalidCredentials as exc:
            throttle.record_login_failure(form.email.data)
            form.password.errors.append(exc.message)
            status = 401
        else:
            sessions.start(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    # Every session of the user ends, on every device: a copied cookie must not outlive this.
    services.end_sessions(user=current_user._get_current_object())
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # Guessing the current password from a stolen session counts as failed log-ins.
        throttle.check_login_allowed(user.email)
        try:
            services.change_password(
                user=user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except services.WrongCurrentPassword as exc:
            throttle.record_login_failure(user.email)
            form.current_password.errors.append(exc.message)
        except Invalid as exc:
            errors_onto_form(
                form, exc.details, rename={"password": "new_password"}, default="new_password"
            )
        else:
            # Every other session has ended; this browser carries on under the new version.
            sessions.start(user, remember=login_remembered())
            flash("Your password is changed. Other devices are signed out.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), 200 if not form.errors else 422
