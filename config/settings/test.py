"""Settings for the test suite: whatever DATABASE_URL / CELERY_BROKER_URL say, fast hashing."""

import tempfile

from .base import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["private"]["OPTIONS"]["location"] = tempfile.mkdtemp(prefix="sons-private-")
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
MEDIA_ROOT = tempfile.mkdtemp(prefix="sons-media-")
# The suite runs eagerly; tests marked `worker` talk to a real worker through the broker.
CELERY_TASK_ALWAYS_EAGER = True
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
