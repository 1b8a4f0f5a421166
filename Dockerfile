# Pulse as a container: `docker compose up -d` (compose.yaml), or see README "Deploying".
# The install is README's, line for line, and CI runs it in a clean virtual environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PULSE_DATABASE_PATH=/data/pulse.db \
    # Inside the container; publish the ports on the host's loopback only (compose.yaml).
    PULSE_WEBHOOK_LISTEN=0.0.0.0 \
    PULSE_HEALTH_LISTEN=0.0.0.0

RUN useradd --system --create-home --uid 10001 pulse \
    && mkdir /data && chown pulse:pulse /data

WORKDIR /opt/pulse
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
COPY sandbox ./sandbox
# README "Deploying", step 1.
RUN python3 -m venv /opt/pulse/venv \
    && /opt/pulse/venv/bin/pip install --no-cache-dir -c constraints.txt .

USER pulse
WORKDIR /data
VOLUME /data
# The webhook (pulsebot run --webhook) and /healthz with /metrics.
EXPOSE 8080 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["/opt/pulse/venv/bin/pulsebot", "health"]
# SIGTERM lets the updates in hand finish; compose's stop_grace_period gives it 30 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/pulse/venv/bin/pulsebot"]
CMD ["run"]
