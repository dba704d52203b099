"""Framework agreements: coordinators, the shared specification, participants, call-offs, dashboards."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("frameworks", __name__, url_prefix="/frameworks")


@bp.route("/<int:framework_id>")
def framework(framework_id: int):
    from flask import abort

    abort(404)
