"""The embedded default: SQLite, eager Celery, console mail. Used by `make run`."""

from .base import *

DEBUG = env.bool("DJANGO_DEBUG", default=True)
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
