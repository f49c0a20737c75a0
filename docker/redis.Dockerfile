# Redis and Redis Sentinel for the CTurn cluster (docker/compose.cluster.yaml):
# Debian's redis-server package (7.0 in bookworm) on the same
# debian:bookworm-slim base as the CTurn image. Build from docker/:
#   docker build -f docker/redis.Dockerfile -t cturn-redis docker
# Configuration: docker/redis.conf and the ACL users of docker/redis-acl.conf
# (no persistence, no one without a password), docker/sentinel.conf and
# docker/sentinel-acl.conf for a Sentinel; the passwords come from
# CTURN_REDIS_PASSWORD and CTURN_REDIS_ADMIN_PASSWORD (docker/redis-entrypoint).

FROM debian:bookworm-slim
# The unprivileged `redis` user gets a fixed uid and gid, 10002, before the
# package would pick the next free system id: the Compose file mounts its
# tmpfs directories owned by that id (uid=, gid= there), because Docker keeps
# the mode of the image's directory under a tmpfs and ignores `mode=`. The
# package then finds the user, creates /var/lib/redis, and brings redis-cli
# (the health check) and redis-sentinel's code (redis-server --sentinel).
RUN groupadd --system --gid 10002 redis \
 && useradd --system --uid 10002 --gid redis --no-create-home \
      --home-dir /var/lib/redis --shell /usr/sbin/nologin redis \
 && apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
COPY redis.conf redis-acl.conf sentinel.conf sentinel-acl.conf /etc/redis/cturn/
COPY redis-entrypoint /usr/local/bin/cturn-redis
# Where a Sentinel writes its configuration (a tmpfs in the Compose file,
# whose root is read-only; this directory serves a plain `docker run`).
RUN install -d -o redis -g redis -m 0700 /run/cturn-sentinel

USER redis
EXPOSE 6379 26379
# Exec form, and the entrypoint execs redis-server: it is PID 1 and gets
# `docker stop`'s SIGTERM itself (nothing to save, so it exits at once).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/cturn-redis", "--check"]
ENTRYPOINT ["/usr/local/bin/cturn-redis"]
