# `audit-trail` as a container: `docker compose up` runs `migrate` once, then `serve`
# (consumer + HTTP API) against the compose file's Kafka and ClickHouse server.
FROM python:3.11-slim
WORKDIR /app
# Dependencies in a layer of their own: rebuilt only when pyproject.toml or the pins change.
# The image runs `migrate` and `serve` on a ClickHouse server: base + server + serve extras
# (the embedded store too, for a single container without a server).
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; extras = p['optional-dependencies']; print('\n'.join(p['dependencies'] + extras['embedded'] + extras['server'] + extras['serve']))" > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt -c constraints.txt
COPY README.md ./
COPY schemas ./schemas
COPY producers ./producers
COPY consumers ./consumers
COPY ledger ./ledger
COPY audit_trail ./audit_trail
RUN pip install --no-cache-dir --no-deps . \
 && useradd --system --uid 10001 --home-dir /data audit \
 && mkdir -p /data && chown audit:audit /data
# The embedded store (when no AUDIT_CLICKHOUSE_URL is set) and its master key file live here.
ENV AUDIT_DATA_DIR=/data/store
VOLUME /data
USER audit
EXPOSE 8080
ENTRYPOINT ["audit-trail"]
CMD ["serve", "--port", "8080"]
