from celery import shared_task
from django.db import connection


@shared_task(name="core.tasks.heartbeat")
def heartbeat() -> dict:
    """Proves the worker reaches the database; the beat schedule runs it every 15 minutes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (value,) = cursor.fetchone()
    return {"database": value == 1, "vendor": connection.vendor}
