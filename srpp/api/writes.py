"""Write operations of ``/api/v1`` (API token with write access)."""

from __future__ import annotations
