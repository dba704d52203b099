from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import get_locale

from srpp.cpv import services

bp = Blueprint("cpv", __name__, url_prefix="/cpv")


@bp.route("/")
def browse():
    q = request.args.get("q", "")[:100]
    results = services.search(q, str(get_locale()), limit=100) if q else []
    return render_template("cpv/browse.html", q=q, results=results)


@bp.route("/search.json")
def search_json():
    q = request.args.get("q", "")[:100]
    results = services.search(q, str(get_locale()), limit=20)
    return jsonify([{"code": c.code, "label": c.label, "art77": c.is_art77} for c in results])
