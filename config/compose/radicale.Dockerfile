# Radicale for the syncsvc compose demo: a pinned release from PyPI, run as a non-root user.
FROM python:3.11-slim
RUN pip install --no-cache-dir radicale==3.9.0 \
    && useradd --system --uid 10002 --home-dir /var/lib/radicale radicale \
    && mkdir -p /var/lib/radicale/collections \
    && chown -R radicale /var/lib/radicale
COPY radicale-init.sh /usr/local/bin/radicale-init
USER radicale
VOLUME /var/lib/radicale
EXPOSE 5232
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:5232/.web/', timeout=2)"
ENTRYPOINT ["sh", "/usr/local/bin/radicale-init"]
