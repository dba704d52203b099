from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from srpp.core import jobs
from srpp.home import services
from srpp.orgs import services as org_services
from srpp.plans import services as plan_services

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/public.html", municipalities=org_services.municipalities())
    kind = services.home_kind(current_user)
    ctx = {
        "kind": kind,
        "notifications": services.recent_notifications(current_user),
        "membership": current_user.primary_membership,
    }
    if kind == "council":
        ctx["municipalities"] = org_services.municipalities()
        ctx["reviews"] = plan_services.review_overview()
    if kind == "municipality":
        muni = current_user.primary_membership.municipality
        version = plan_services.current_published(muni)
        ctx["plan_version"] = version
        ctx["review"] = plan_services.review_status(version)
        ctx["share"] = plan_services.reserved_share(version.items) if version else None
    if kind == "admin":
        ctx["alive"] = jobs.workers_alive()
        ctx["municipalities"] = org_services.municipalities()
    return render_template(f"home/{kind}.html", **ctx)
