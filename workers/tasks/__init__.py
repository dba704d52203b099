"""Task modules; importing this package registers every task."""

from workers.tasks import health, plans  # noqa: F401
