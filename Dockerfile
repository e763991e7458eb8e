# The consumer service (and the CLI) as a container: `docker compose up` runs it against
# the compose file's Kafka and ClickHouse server.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY producers ./producers
COPY consumers ./consumers
COPY ledger ./ledger
COPY audit_trail ./audit_trail
RUN pip install --no-cache-dir . && useradd --system --uid 10001 audit
USER audit
EXPOSE 9464
ENTRYPOINT ["audit-trail"]
CMD ["consume", "--metrics-port", "9464"]
