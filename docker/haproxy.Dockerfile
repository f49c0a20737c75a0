# HAProxy in front of the CTurn cluster (docker/compose.cluster.yaml):
# Debian's haproxy package (2.6 in bookworm) on the same debian:bookworm-slim
# base as the CTurn image, with docker/haproxy.cfg. Build from docker/:
#   docker build -f docker/haproxy.Dockerfile -t cturn-haproxy docker

FROM debian:bookworm-slim
# The package creates the unprivileged `haproxy` user.
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY haproxy.cfg /etc/haproxy/cturn.cfg
# Fail the build, not the first start, on a configuration error.
RUN haproxy -c -q -f /etc/haproxy/cturn.cfg

# Port 1337 needs no privilege, so HAProxy runs unprivileged from the start.
USER haproxy
EXPOSE 1337
# -db: stay in the foreground as PID 1. -W (master-worker): the master, PID 1,
# handles SIGTERM and stops the worker at once; a lone HAProxy process leaves
# SIGTERM to its default action, which PID 1 does not get, so `docker stop`
# would wait for its SIGKILL. Clients see their connection close and
# reconnect. (SIGUSR1, HAProxy's soft stop, would wait for chat connections
# that last hours.)
STOPSIGNAL SIGTERM
# Healthy while at least one node is up (/healthz of `listen status` in
# docker/haproxy.cfg); bash's /dev/tcp is the HTTP client, so no curl needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8404 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["haproxy", "-W", "-db", "-f", "/etc/haproxy/cturn.cfg"]
