"""Import and export of plan items (CSV, XLSX)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from srpp.core.errors import DomainError
from srpp.core.permissions import require
from srpp.extensions import db
from srpp.orgs.models import FundingMeasure, PriorityArea
from srpp.orgs.services import categories
from srpp.plans import exports, imports, services
from srpp.plans.models import PlanVersion
from srpp.rules.models import Procedure, ReservationBasis

bp = Blueprint("plan_io", __name__, url_prefix="/plans")

#: errors listed on the page (all are counted)
SHOWN_ERRORS = 1000


class ImportForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a CSV or XLSX file."))])


def _download(data: bytes, name: str, mimetype: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp




@bp.route("/import-template.<any(xlsx, csv):fmt>")
def template(fmt: str):
    if fmt == "xlsx":
        return _download(exports.template_xlsx(), "plan-import-template.xlsx", exports.XLSX_MIME)
    return _download(exports.template_csv(), "plan-import-template.csv", exports.CSV_MIME)


@bp.route("/versions/<int:version_id>/export.<any(xlsx, csv):fmt>")
def export(version_id: int, fmt: str):
    version = services.require_readable(current_user, db.get_or_404(PlanVersion, version_id))
    if fmt == "xlsx":
        return _download(exports.version_xlsx(version), exports.filename(version, "xlsx"), exports.XLSX_MIME)
    return _download(exports.version_csv(version), exports.filename(version, "csv"), exports.CSV_MIME)


@bp.route("/versions/<int:version_id>/import", methods=["GET", "POST"])
@login_required
def import_items(version_id: int):
    version = db.get_or_404(PlanVersion, version_id)
    require(current_user, "plan.edit", version.plan.municipality)
    form = ImportForm()
    errors: list[imports.RowError] = []
    refusal = None
    if not version.is_draft:
        refusal = _("Version %(n)s is %(state)s: items can only be imported into a draft version. "
                    "Start a new version of the plan, then import.", n=version.number, state=version.state.label)
    elif form.validate_on_submit():
        upload = form.file.data
        limit = current_app.config.get("PLAN_IMPORT_MAX_BYTES", imports.MAX_UPLOAD_BYTES)
        try:
            count = imports.import_file(current_user, version, upload.filename or "", upload.stream, limit)
            db.session.commit()
        except imports.ImportRefused as err:
            db.session.rollback()
            errors = err.errors
        except DomainError as err:
            db.session.rollback()
            refusal = err.message
        except Exception:
            db.session.rollback()
            raise
        else:
            flash(_("%(count)s items were imported into version %(n)s.", count=count, n=version.number), "success")
            return redirect(url_for("plans.version", version_id=version.id))
    return render_template(
        "plan_io/import.html", version=version, plan=version.plan, form=form, refusal=refusal,
        errors=errors[:SHOWN_ERRORS], error_count=len(errors), error_rows=len({e.row for e in errors}),
        columns=imports.COLUMNS, column_help=imports.COLUMN_HELP, categories=categories(),
        funding=db.session.scalars(select(FundingMeasure).order_by(FundingMeasure.code)).all(),
        areas=list(PriorityArea), procedures=list(Procedure), reservations=list(ReservationBasis),
        max_mb=current_app.config.get("PLAN_IMPORT_MAX_BYTES", imports.MAX_UPLOAD_BYTES) // (1024 * 1024),
    )
