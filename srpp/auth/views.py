from __future__ import annotations

import hmac

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_time
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from srpp.auth import reset, services
from srpp.auth.forms import (
    AccountForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    PasswordForm,
    ResetPasswordForm,
)
from srpp.core.errors import DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.web import safe_next_url
from srpp.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(session_id: str):
    """The user of a session (``User.get_id``: id and password fingerprint), or nobody when the
    password has changed since the session began or the account was deactivated."""
    from srpp.auth.models import User

    user_id, _sep, fingerprint = (session_id or "").partition(":")
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError, OverflowError):
        return None
    if user is None or not user.active or not hmac.compare_digest(fingerprint, user.session_fingerprint):
        return None
    return user


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr or "")
        except services.LoginRefused as refused:
            if refused.reason == "locked":
                flash(
                    _("Too many failed attempts: this account is locked until %(time)s. Try again later.",
                      time=format_time(refused.locked_until, "short")),
                    "error",
                )
            else:
                flash(_("Wrong e-mail or password."), "error")
            return render_template("auth/login.html", form=form), 200
        locale = session.get("locale")
        session.clear()  # no session fixation: start a fresh session on login
        login_user(user)
        if locale and not user.locale:
            user.locale = locale
        db.session.commit()
        flash(_("Welcome, %(name)s.", name=user.display_name), "success")
        return redirect(safe_next_url(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/login.html", form=form)


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def password_forgot():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        reset.request_reset(form.email.data)
        db.session.commit()
        # the same answer whether or not the address has an account
        flash(_("If an account uses this e-mail address, a link to set a new password is on its way. The link works "
                "for %(minutes)d minutes and only once.",
                minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/password_forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def password_reset(token: str):
    if reset.user_for_token(token) is None:
        flash(_("This password reset link is invalid, has expired or was already used. Ask for a new one."), "error")
        return redirect(url_for("auth.password_forgot"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset.reset_password(token, form.new_password.data)
        except DomainError as err:
            db.session.rollback()
            apply_domain_error(form, err)
        else:
            db.session.commit()
            flash(_("Your new password is set. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    resp = make_response(render_template("auth/password_reset.html", form=form))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("home.index"))


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        try:
            services.set_locale(current_user, form.locale.data)
        except DomainError as err:
            flash(err.message, "error")
        else:
            session["locale"] = form.locale.data
            db.session.commit()
    return redirect(safe_next_url(request.form.get("next")) or url_for("home.index"))


@bp.route("/language/<code>")
def language_link(code: str):
    """Anonymous visitors switch language with a plain link (it only changes their session)."""
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
    return redirect(safe_next_url(request.args.get("next")) or url_for("home.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = AccountForm(obj=current_user, prefix="acc")
    pw_form = PasswordForm(prefix="pw")
    if request.method == "POST" and "acc-locale" in request.form and form.validate():
        current_user.full_name = form.full_name.data.strip()
        current_user.locale = form.locale.data
        session["locale"] = form.locale.data
        db.session.commit()
        flash(_("Your account was saved."), "success")
        return redirect(url_for("auth.account"))
    if request.method == "POST" and "pw-new_password" in request.form and pw_form.validate():
        try:
            services.change_password(current_user, pw_form.current_password.data, pw_form.new_password.data)
        except DomainError as err:
            apply_domain_error(pw_form, err)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session goes on; the others have ended
            flash(_("Your password was changed; you were logged out everywhere else."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, pw_form=pw_form)


# the "API tokens" pages of the account (issue 9) are routes of this blueprint, kept with the API
from srpp.api import token_views  # noqa: E402,F401
