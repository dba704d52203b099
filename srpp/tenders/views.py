"""Tenders and lots for procurement officers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tenders", __name__, url_prefix="/tenders")
