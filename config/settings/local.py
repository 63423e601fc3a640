"""The embedded default: SQLite, eager Celery, console mail. Used by `make run`."""

from .base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)
