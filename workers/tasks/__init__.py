"""Task modules; importing this package registers every task."""

from workers.tasks import documents, frameworks, health, payments, plans, public, suppliers  # noqa: F401
