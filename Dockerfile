# qabot in a container: the Discord bot, or any other command (`docker run ... qabot chat`).
# Knowledge and data live in volumes: /knowledge (the articles) and /data (database, cache, health).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir . \
    && useradd --system --create-home --home-dir /home/qabot --uid 10001 qabot \
    && mkdir -p /knowledge /data \
    && chown qabot:qabot /knowledge /data

USER 10001:10001
WORKDIR /home/qabot
# The token comes from the environment (compose.yaml's env_file), never from the image.
ENV QABOT_KNOWLEDGE_DIR=/knowledge \
    QABOT_DATABASE_PATH=/data/qabot.sqlite3 \
    QABOT_CACHE_DIR=/data/cache \
    QABOT_HEALTH_FILE=/data/health.json \
    QABOT_LOG_FILE=/data/logs/qabot.log
VOLUME ["/knowledge", "/data"]

HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 CMD ["qabot", "health"]
STOPSIGNAL SIGTERM
CMD ["qabot", "run"]
