# syntax=docker/dockerfile:1
# Build: docker build -t street-triage .
# Run:   docker run -e DATABASE_URL=postgresql+asyncpg://user:pw@db/triage -e SECRET_KEY=... -p 8000:8000 street-triage
#
# The base image is pinned by digest (the multi-platform index of python:3.11-slim: Python 3.11.15
# on Debian trixie, as published on 5 August 2026; the digest is listed in docker-library/repo-info,
# repos/python/remote/3.11-slim.md). To move to a newer one, see docs/security.md, "Supply chain".
ARG BASE=python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff

FROM ${BASE} AS build
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The runtime lock only: every package pinned with its hashes, wheels only (no build script runs),
# and no embedded PostgreSQL (the image needs DATABASE_URL) nor any test tool.
COPY requirements.lock ./
RUN pip install --require-hashes --only-binary=:all: -r requirements.lock

FROM ${BASE} AS runtime
RUN useradd --system --uid 10001 --home /srv/app triage
WORKDIR /srv/app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
# The application runs from this folder (`python -m app` finds it in the working directory).
COPY app ./app
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 \
    ENVIRONMENT=prod DATA_DIR=/srv/app/data
USER triage
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# `serve` applies the migrations (under an advisory lock) and then starts uvicorn.
CMD ["python", "-m", "app", "serve"]
