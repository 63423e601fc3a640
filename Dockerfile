# The SONS referencing service: one image for web (gunicorn), worker and beat (celery).
# Built by docker-compose.yml; dependencies come from uv.lock, exactly.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH="/app/.venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PRIVATE_MEDIA_ROOT=/data/private \
    MEDIA_ROOT=/data/media

# The same uv as the Makefile.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.9 \
    && useradd --create-home --uid 10001 --user-group sons

WORKDIR /app

# Locked runtime dependencies first, in their own layer (rebuilt only when the lock changes).
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python

COPY . .
RUN uv sync --frozen --no-dev --python /usr/local/bin/python \
    && DJANGO_SECRET_KEY=collectstatic-only-not-a-secret DJANGO_ALLOWED_HOSTS=localhost \
       python manage.py collectstatic --noinput \
    && mkdir -p /data/private /data/media \
    && chown -R sons:sons /data

USER sons
EXPOSE 8000

# Overridden per service in docker-compose.yml (web migrates first; worker; beat).
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--no-control-socket", "--access-logfile", "-"]
