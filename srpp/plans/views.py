"""Plans of a municipality: versions, items, publication, history."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/plans")
