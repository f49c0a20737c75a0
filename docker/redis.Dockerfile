# Redis for the CTurn cluster (docker/compose.cluster.yaml): Debian's
# redis-server package (7.0 in bookworm) on the same debian:bookworm-slim base
# as the CTurn image. Build from docker/:
#   docker build -f docker/redis.Dockerfile -t cturn-redis docker
# Configuration: docker/redis.conf (no persistence, no protected mode; the
# port is only reachable inside the Compose network) and an optional password
# from CTURN_REDIS_PASSWORD (docker/redis-entrypoint).

FROM debian:bookworm-slim
# The package creates the unprivileged `redis` user and /var/lib/redis.
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
COPY redis.conf /etc/redis/cturn.conf
COPY redis-entrypoint /usr/local/bin/cturn-redis

USER redis
EXPOSE 6379
# Exec form, and the entrypoint execs redis-server: it is PID 1 and gets
# `docker stop`'s SIGTERM itself (nothing to save, so it exits at once).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/cturn-redis", "--check"]
ENTRYPOINT ["/usr/local/bin/cturn-redis"]
