"""The Celery application. Tasks run in-process (eager) unless CELERY_BROKER_URL is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("sons")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
