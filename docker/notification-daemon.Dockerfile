# syntax=docker/dockerfile:1
# The scheduler instance for notification_schedule (game.reminder_due); /healthz and /metrics on 9101.
# `game-scheduler scheduler ...` runs game_scheduler.scheduler.notification_daemon_wrapper.main with --metrics-port;
# `python -m` on the wrapper alone runs it too, but without a metrics port (no health check).
# Build from the repository root: docker build -f docker/notification-daemon.Dockerfile .
# Every image in docker/ shares the builder stage below, line for line
# (tests/deploy/test_dockerfiles.py checks it); only the runtime stage differs.

FROM python:3.11.14-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so a source change reuses this layer.
COPY pyproject.toml ./
RUN python -m venv /opt/venv \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir --requirement requirements.txt
COPY README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-cache-dir --no-deps /wheels/game_scheduler-*.whl

FROM python:3.11.14-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LOG_FORMAT=json
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
USER 10001:10001
EXPOSE 9101
# No curl in slim images: the interpreter asks the process's own health endpoint.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9101/healthz', timeout=4)"]
CMD ["game-scheduler", "scheduler", "notifications", "--metrics-port", "9101", "--metrics-host", "0.0.0.0"]
