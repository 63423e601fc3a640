"""Settings for the test suite: whatever DATABASE_URL / CELERY_BROKER_URL say, fast hashing."""

import os
import tempfile
from pathlib import Path

from .base import *

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
_TMP = Path(tempfile.gettempdir()) / f"sons-tests-{os.getuid()}"
STORAGES["private"]["OPTIONS"]["location"] = str(_TMP / "private")
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
MEDIA_ROOT = str(_TMP / "media")
# The suite runs eagerly; tests marked `worker` talk to a real worker through the broker.
CELERY_TASK_ALWAYS_EAGER = True
WHITENOISE_AUTOREFRESH = True
# Each test's rolled-back schemes must not linger in the catalogue's per-process cache.
CATALOGUE_SCHEME_CODES_TTL = 0.0
WHITENOISE_USE_FINDERS = True
