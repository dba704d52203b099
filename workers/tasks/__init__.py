"""Task modules; importing this package registers every task."""

from workers.tasks import health  # noqa: F401
