"""Helpers shared by the domain services."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from srpp.core.errors import ConcurrentEdit


def check_version(obj: Any, version: int | str | None) -> None:
    """Optimistic locking at the form level: the version the user started from must still
    be current. (The UPDATE itself also checks it, against races between requests.)"""
    try:
        expected = int(version) if version not in (None, "") else None
    except (TypeError, ValueError):
        expected = None
    if expected is None or expected != obj.version:
        raise ConcurrentEdit(
            _("This record was changed by someone else while you were editing it. "
              "Your changes were not saved; review the current values and apply them again.")
        )
