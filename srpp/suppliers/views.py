"""The SEO directory and eligibility statuses with their evidence."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("suppliers", __name__)
