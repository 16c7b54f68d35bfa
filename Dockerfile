# syntax=docker/dockerfile:1
# syncsvc: build a wheel, then a slim runtime that runs `syncsvc run` as a non-root user.
#   docker build -t syncsvc .
#   docker run -v syncsvc-data:/var/lib/syncsvc -v $PWD/my.toml:/etc/syncsvc/syncsvc.toml:ro \
#              -p 127.0.0.1:8080:8080 syncsvc
# See docs/OPERATIONS.md.

ARG PYTHON_VERSION=3.11

# --- build: wheels for syncsvc and every dependency -------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# constraints.tx[t]: the pinned dependency tree when the repository has one (optional).
COPY pyproject.toml README.md constraints.tx[t] ./
COPY syncsvc ./syncsvc
RUN if [ -f constraints.txt ]; then set -- -c constraints.txt; fi \
    && pip wheel --wheel-dir /wheels "$@" .

# --- runtime --------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SYNCSVC_CONFIG=/etc/syncsvc/syncsvc.toml \
    SYNCSVC_SECRETS_DIR=/run/secrets \
    SYNCSVC_HTTP__HOST=0.0.0.0
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels syncsvc \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/syncsvc \
        --shell /usr/sbin/nologin syncsvc \
    && mkdir -p /var/lib/syncsvc /etc/syncsvc /run/secrets \
    && chown syncsvc:syncsvc /var/lib/syncsvc
# The default configuration and example plan, so the image runs as is; mount your own
# /etc/syncsvc/syncsvc.toml (with sync.data_dir = "/var/lib/syncsvc") to replace it.
COPY --chown=root:root config/arsplan-2024.txt config/overrides.toml /etc/syncsvc/
COPY --chown=root:root config/compose/docker-default.toml /etc/syncsvc/syncsvc.toml
USER syncsvc
WORKDIR /var/lib/syncsvc
VOLUME ["/var/lib/syncsvc"]
EXPOSE 8080
# /healthz answers while the process is up; readiness (/readyz) is for orchestrators.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SYNCSVC_HTTP__PORT', '8080'), timeout=4)"]
# exec form: syncsvc is PID 1's only child-free process and receives SIGTERM directly.
ENTRYPOINT ["syncsvc"]
CMD ["run"]
STOPSIGNAL SIGTERM
