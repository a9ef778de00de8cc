# syntax=docker/dockerfile:1
# Build: docker build -t street-triage .
# Run:   docker run -e DATABASE_URL=postgresql+asyncpg://user:pw@db/triage -e SECRET_KEY=... -p 8000:8000 street-triage

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install .

FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --home /srv/app triage
WORKDIR /srv/app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 \
    ENVIRONMENT=prod DATA_DIR=/srv/app/data
USER triage
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# `serve` applies the migrations (under an advisory lock) and then starts uvicorn.
CMD ["python", "-m", "app", "serve"]
