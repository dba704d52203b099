"""The "API tokens" pages of a logged-in user (``/account/api-tokens``), on the ``auth`` blueprint
next to ``/account``. A new token's plaintext is shown once, in the answer to the POST that made it
(never stored, never in the session cookie, never shown again). Admins revoke any user's token from
the admin user page through the same service and the "api_token.manage" rule."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from srpp.api import services
from srpp.api.forms import RevokeForm, TokenForm
from srpp.api.models import ApiToken
from srpp.api.views import bp as api_bp
from srpp.auth.views import bp
from srpp.core.errors import DomainError
from srpp.core.forms import apply_domain_error
from srpp.core.permissions import require
from srpp.core.web import safe_next_url
from srpp.extensions import db


def _page(form: TokenForm):
    return render_template("api/tokens.html", form=form, tokens=services.tokens_of(current_user))


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = TokenForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form)
    try:
        token, plaintext = services.issue(current_user, form.name.data, can_write=bool(form.can_write.data),
                                          expires_on=form.expires_on.data)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        apply_domain_error(form, err)
        return _page(form)
    response = render_template("api/token_created.html", token=token, plaintext=plaintext,
                               api_base=request.url_root.rstrip("/") + api_bp.url_prefix)
    # the plaintext is in this answer only: not in any cache, not in the browser's history store
    return response, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def api_token_revoke(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    require(current_user, "api_token.manage", token)  # 403 for another user's token (admins may)
    form = RevokeForm()
    if form.validate_on_submit():
        services.revoke(current_user, token)
        db.session.commit()
        flash(_("The token “%(name)s” was revoked: it no longer works.", name=token.name), "success")
    else:
        flash(_("The form expired; please try again."), "error")
    return redirect(safe_next_url(form.next.data) or url_for("auth.api_tokens"))


@bp.app_context_processor
def _api_token_helpers():
    def api_tokens_of(user):
        """For the admin user page: that user's tokens (the rule is checked on revoking)."""
        return services.tokens_of(user)

    return {"api_tokens_of": api_tokens_of, "api_token_today": dt.date.today}
