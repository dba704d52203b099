"""The public pipeline of upcoming procurement: /opportunities, item pages, feeds, saved searches."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)
