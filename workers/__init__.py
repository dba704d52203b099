"""Celery worker entry point and tasks (thin wrappers over services)."""
