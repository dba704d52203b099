"""Task modules; importing this package registers every task."""

from workers.tasks import health, plans, public  # noqa: F401
