"""Task modules; importing this package registers every task."""

from workers.tasks import documents, frameworks, health, plans, public, suppliers  # noqa: F401
