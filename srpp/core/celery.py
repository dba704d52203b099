"""Celery bound to the Flask app (the Flask docs' pattern).

With ``REDIS_URL`` set, tasks go to Redis and run in worker processes; without it they run
in-process (``task_always_eager``), so the embedded default needs no broker."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config["REDIS_URL"]
    celery_app = Celery(app.name, task_cls=FlaskTask)
    from workers.schedule import BEAT_SCHEDULE

    celery_app.conf.update(
        broker_url=redis_url or "memory://",
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_always_eager=app.config["CELERY_EAGER"],
        task_eager_propagates=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"],
            # sweep for tasks whose worker died often enough to honour the timeout (kombu's default sweep
            # is every 10 s x 10 calls = 100 s, whatever the timeout)
            "unacked_restore_interval": max(1, min(60, app.config["CELERY_VISIBILITY_TIMEOUT"] // 5)),
            "unacked_restore_throttle": 1,
        },
        task_default_queue="srpp",
        timezone="Europe/Vilnius",
        beat_schedule=BEAT_SCHEDULE,
        imports=("workers.tasks",),
    )
    if redis_url:
        # fail fast when the broker is down, so a request answers instead of hanging
        celery_app.conf.broker_transport_options.update(
            {"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 1}
        )
        celery_app.conf.broker_connection_timeout = 2
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    import workers.tasks  # noqa: F401  (register the tasks)

    return celery_app
