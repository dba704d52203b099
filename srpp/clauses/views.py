"""The clause library: every clause with its editions, two editions side by side with their
differences, and (for admins) loading a new release of the library files."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from srpp.clauses import services
from srpp.core.errors import DomainError
from srpp.core.permissions import can, permission_required
from srpp.documents.forms import ActionForm
from srpp.extensions import db

bp = Blueprint("clauses", __name__, url_prefix="/clauses")


@bp.get("/")
@permission_required("clause.view")
def index():
    category = request.args.get("category") or None
    rows = services.clauses()
    categories = sorted({c.category for c in rows})
    if category:
        rows = [c for c in rows if c.category == category]
    usage = services.usage_counts()
    used = {c.id: sum(usage.get(e.id, 0) for e in c.editions) for c in rows}
    return render_template("clauses/index.html", clauses=rows, categories=categories, category=category,
                           used=used, can_load=can(current_user, "clause.manage"),
                           action_form=ActionForm())


@bp.post("/load")
@permission_required("clause.manage")
def load():
    if ActionForm().validate_on_submit():
        try:
            result = services.load(current_user)
            db.session.commit()
            flash(_("Clause library loaded: %(added)d added, %(updated)d updated, %(same)d unchanged.",
                    added=len(result.added), updated=len(result.updated), same=result.unchanged), "success")
        except services.LibraryError as err:
            db.session.rollback()
            flash(err.message + " " + "; ".join(str(p) for p in err.problems[:10]), "error")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
    return redirect(url_for("clauses.index"))


@bp.get("/<code>")
@permission_required("clause.view")
def clause(code: str):
    row = services.get_clause(code)
    if row is None:
        abort(404)
    editions = row.editions
    by_number = {e.edition: e for e in editions}
    right = by_number.get(request.args.get("right", type=int)) or editions[-1]
    left = by_number.get(request.args.get("left", type=int)) or (editions[-2] if len(editions) > 1 else right)
    diff = services.compare(left, right)
    lang = request.args.get("lang") if request.args.get("lang") in ("lt", "en") else "en"
    return render_template("clauses/clause.html", clause=row, editions=editions, left=left, right=right, diff=diff,
                           lang=lang, usage=services.usage_counts())
