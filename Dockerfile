# The CRM's production image: gunicorn serving Django, the same image running the Celery worker
# and beat (see docker-compose.yml). Build with `docker build -t crm .`.

# --- Front-end assets: npm installs the third-party dist folders that collectstatic picks up.
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- Source: the repository minus what must never reach the image (local virtualenv, database,
# .env with its secrets, caches, tests). The pruning happens in a throwaway stage, so the final
# image holds none of it even when the build context has no .dockerignore.
FROM python:3.11-slim AS source
COPY . /src
RUN cd /src \
    && rm -rf .git .venv var node_modules staticfiles build dist *.egg-info tests .ci \
        .ruff_cache .pytest_cache .mypy_cache .hypothesis test-results \
    && find . -maxdepth 1 -name '.env*' ! -name '.env.example' -exec rm -rf {} + \
    && find . -name '__pycache__' -prune -exec rm -rf {} + \
    && find . \( -name '*.pyc' -o -name '*.mo' \) -delete

# --- Runtime.
FROM python:3.11-slim

# The app runs from its source tree in /app (PYTHONPATH): templates, static/ and locale/ are found
# relative to crm/settings.py, so `crm` is imported from there and is not pip-installed itself.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    CRM_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media

# gettext provides msgfmt for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Runtime dependencies only (no dev extra), pinned by constraints.txt. They are read from
# pyproject.toml before the code is copied, so a code change does not reinstall them.
COPY --from=source /src/pyproject.toml /src/constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY --from=source /src /app
COPY --from=assets /assets/node_modules /app/node_modules

# Settings refuse to load without SECRET_KEY and FIELD_ENCRYPTION_KEYS when DEBUG is off. These
# two throwaway values exist only inside this RUN line's shell: they are not written into any
# layer's environment, and nothing here uses them to encrypt or sign anything. DEBUG stays off so
# collectstatic writes the hashed, compressed files and the manifest that production serves.
RUN export SECRET_KEY=build-only-not-a-secret \
        FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1ub3QtYS1yZWFsLWtleS0wMDAwMDA= \
    && python manage.py compilemessages --ignore node_modules -v0 \
    && python manage.py collectstatic --no-input -v0

# A non-root user; it owns only var/ (uploads under var/media, the `media` volume in compose).
RUN groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --home-dir /app --no-create-home crm \
    && mkdir -p /app/var/media \
    && chown -R crm:crm /app/var
USER crm

EXPOSE 8000

CMD ["sh", "-c", "exec gunicorn crm.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
