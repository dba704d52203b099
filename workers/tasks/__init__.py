"""Task modules; importing this package registers every task."""

from workers.tasks import (  # noqa: F401
    documents,
    frameworks,
    health,
    kpis,
    payments,
    plans,
    public,
    reporting,
    risks,
    suppliers,
)
