"""Optimistic locking of plan items in the API. Plan items have no version column; their
``version`` in the API is a token of their content, so read and write operations agree on it."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from srpp.plans import services as plans
from srpp.plans.models import PlanItem

_VERSIONED = (*plans.DIFF_FIELDS, "framework_id")


def item_version(item: PlanItem) -> str:
    """A hash of the item's content: it changes with every change of the item, and it is the same
    for the copy of an item in a new draft version (so a version read from the published plan is
    valid for the first change, which starts the draft)."""

    def text(value: Any) -> str:
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if isinstance(value, list):
            return ",".join(text(v) for v in value)
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return "" if value is None else str(getattr(value, "value", value))

    raw = "\x1f".join(f"{name}={text(getattr(item, name))}" for name in _VERSIONED)
    return hashlib.sha256(raw.encode()).hexdigest()[:20]
