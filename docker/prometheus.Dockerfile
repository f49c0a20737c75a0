# Prometheus beside CTurn (docker/compose.yaml, docker/compose.cluster.yaml):
# Debian's prometheus package (2.42 in bookworm) on the same
# debian:bookworm-slim base as the CTurn image. Build from docker/:
#   docker build -f docker/prometheus.Dockerfile -t cturn-prometheus docker
# It scrapes every CTurn node's /metrics (docker/prometheus.yml for the single
# server, the default; docker/prometheus.cluster.yml for the cluster, chosen
# by that Compose file's `command`). The web UI and the HTTP API are on 9090.

FROM debian:bookworm-slim
# The package creates the unprivileged `prometheus` user and
# /var/lib/prometheus, which it owns.
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
COPY prometheus.yml prometheus.cluster.yml /etc/prometheus/cturn/
# Fail the build, not the first start, on a configuration error.
RUN promtool check config /etc/prometheus/cturn/prometheus.yml \
 && promtool check config /etc/prometheus/cturn/prometheus.cluster.yml

USER prometheus
EXPOSE 9090
VOLUME /var/lib/prometheus
# Exec form: Prometheus is PID 1 and shuts down cleanly on SIGTERM.
STOPSIGNAL SIGTERM
# /-/healthy answers 200 while Prometheus runs; bash's /dev/tcp is the HTTP
# client, so no curl needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9090 && printf 'GET /-/healthy HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/bin/prometheus", "--storage.tsdb.path=/var/lib/prometheus/metrics2", \
            "--web.listen-address=:9090", "--web.console.libraries=/etc/prometheus/console_libraries", \
            "--web.console.templates=/etc/prometheus/consoles"]
CMD ["--config.file=/etc/prometheus/cturn/prometheus.yml"]
