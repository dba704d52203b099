"""Market engagement: SEOs register interest in upcoming items and open lots."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("engagement", __name__)
