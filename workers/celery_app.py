"""Worker entry: ``celery -A workers.celery_app worker`` and ``celery -A workers.celery_app beat``."""

from srpp import create_app

flask_app = create_app()
app = celery = flask_app.extensions["celery"]
