"""The consolidated regional plan and the council's overviews."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("region", __name__, url_prefix="/region")
