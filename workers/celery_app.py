"""Worker entry: ``celery -A workers.celery_app worker`` and ``celery -A workers.celery_app beat``."""

from srpp import create_app
from srpp.core import logs

flask_app = create_app()
app = celery = flask_app.extensions["celery"]
logs.connect_celery_signals()  # JSON log lines carrying the request id of the request that started each job
