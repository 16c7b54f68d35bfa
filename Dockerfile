# syntax=docker/dockerfile:1
# syncsvc: build a wheel, then a slim runtime that runs `syncsvc run` as a non-root user.
#   docker build -t syncsvc .
#   podman build --build-arg BASE_IMAGE=localhost/debian-python:bookworm -t syncsvc .
#     (any image with python3 >= 3.11 and its venv module works as the base: where no registry
#      is reachable, container/build-base.sh makes one from Debian packages)
#   docker run -v syncsvc-data:/var/lib/syncsvc -v $PWD/my.toml:/etc/syncsvc/syncsvc.toml:ro \
#              -p 127.0.0.1:8080:8080 syncsvc
# See docs/OPERATIONS.md.

ARG BASE_IMAGE=python:3.11-slim

# --- build: wheels for syncsvc and every dependency -------------------------------------------
FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# constraints.tx[t]: the pinned dependency tree when the repository has one (optional).
COPY pyproject.toml README.md constraints.tx[t] ./
COPY syncsvc ./syncsvc
# A venv, not the base's pip: Debian's python3 has none, and it must not touch system Python.
# --use-pep517: sdists without a pyproject (odfpy) build in isolation, not via setup.py.
# Behind a TLS-intercepting proxy, pass its CA bundle: --secret id=pip_cert,src=<bundle.pem>.
RUN --mount=type=secret,id=pip_cert \
    python3 -m venv /opt/build \
    && if [ -f /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
    && if [ -f constraints.txt ]; then set -- -c constraints.txt; fi \
    && /opt/build/bin/pip wheel --use-pep517 --wheel-dir /wheels "$@" .

# --- runtime --------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
ENV PATH=/opt/syncsvc/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SYNCSVC_CONFIG=/etc/syncsvc/syncsvc.toml \
    SYNCSVC_SECRETS_DIR=/run/secrets \
    SYNCSVC_HTTP__HOST=0.0.0.0
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python3 -m venv /opt/syncsvc \
    && /opt/syncsvc/bin/pip install --no-cache-dir --no-index --find-links=/wheels syncsvc \
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
    CMD ["python3", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SYNCSVC_HTTP__PORT', '8080'), timeout=4)"]
# exec form: syncsvc is PID 1's only child-free process and receives SIGTERM directly.
ENTRYPOINT ["syncsvc"]
CMD ["run"]
STOPSIGNAL SIGTERM
