"""A ready-made Celery app for projects without one: ``celery -A shoop_mailchimp.sync.celery_app worker``.

Broker: ``CELERY_BROKER_URL`` in the environment, else ``SHOOP_MAILCHIMP["REDIS_URL"]``. Projects
with their own Celery app only need it to autodiscover ``shoop_mailchimp.sync.tasks``.
"""
import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
django.setup()

from shoop_mailchimp.conf import get_setting  # noqa: E402

app = Celery("shoop_mailchimp")
app.conf.update(
    broker_url=os.environ.get("CELERY_BROKER_URL") or get_setting("REDIS_URL"),
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    beat_schedule={"shoop-mailchimp-round": {"task": "shoop_mailchimp.sync.tasks.run_due_work", "schedule": 60.0}},
)
app.autodiscover_tasks(["shoop_mailchimp.sync"], related_name="tasks", force=True)
import shoop_mailchimp.sync.tasks  # noqa: E402,F401
