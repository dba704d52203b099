"""Import and export of plan items (CSV, XLSX)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("plan_io", __name__, url_prefix="/plans")
