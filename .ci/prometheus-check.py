#!/usr/bin/env python3
"""Checks a Compose stack's Prometheus through its HTTP API (stdlib only).

    prometheus-check.py PROMETHEUS_URL TARGETS HOST PORT [CONNECTIONS]

Waits until Prometheus reports TARGETS targets of job "cturn", every one `up`;
then holds CONNECTIONS (default 3) registered client connections to CTurn at
HOST:PORT and waits until `sum(cturn_connections)` is exactly that many; then
closes them and waits until it is 0 again, so the value is seen to follow the
clients rather than happen to match. Each wait allows a few scrape intervals.
Used by .ci/docker-test for docker/compose.yaml and docker/compose.cluster.yaml.
"""

import importlib.util
import json
import pathlib
import secrets
import sys
import time
import urllib.parse
import urllib.request

WAIT = 60.0  # seconds per condition: the files scrape every 5 s

spec = importlib.util.spec_from_file_location(
    "docker_smoke", pathlib.Path(__file__).with_name("docker-smoke.py"))
docker_smoke = importlib.util.module_from_spec(spec)
spec.loader.exec_module(docker_smoke)


def api(base, path, **query):
    url = f"{base}/api/v1/{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    with urllib.request.urlopen(url, timeout=10) as response:
        reply = json.load(response)
    if reply.get("status") != "success":
        raise AssertionError(f"{url}: {reply}")
    return reply["data"]


def cturn_targets(base):
    """[(instance, health)] of the active targets of job cturn."""
    return sorted((t["labels"]["instance"], t["health"])
                  for t in api(base, "targets", state="active")["activeTargets"]
                  if t["labels"].get("job") == "cturn")


def connections(base):
    """sum(cturn_connections) as Prometheus has it now, or None before the first scrape."""
    result = api(base, "query", query="sum(cturn_connections)")["result"]
    return float(result[0]["value"][1]) if result else None


def wait_for(what, probe, wanted):
    deadline = time.monotonic() + WAIT
    seen = None
    while time.monotonic() < deadline:
        try:
            seen = probe()
        except OSError as error:  # Prometheus still starting
            seen = f"no answer: {error}"
        if wanted(seen):
            return seen
        time.sleep(0.5)
    raise AssertionError(f"{what}: still {seen!r} after {WAIT:.0f} s")


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    base, targets, host, port = argv[0].rstrip("/"), int(argv[1]), argv[2], int(argv[3])
    count = int(argv[4]) if len(argv) == 5 else 3
    try:
        seen = wait_for(f"{targets} cturn targets up", lambda: cturn_targets(base),
                        lambda t: isinstance(t, list) and len(t) == targets
                        and all(health == "up" for _, health in t))
        print(f"ok targets up: {' '.join(instance for instance, _ in seen)}", flush=True)

        tag = secrets.token_hex(4)
        held = [docker_smoke.Client(host, port, f"held-{i}") for i in range(count)]
        for i, client in enumerate(held):
            client.send("username", content=f"metrics-{i}-{tag}")
        for client in held:
            client.expect("welcome")
        wait_for(f"sum(cturn_connections) = {count}", lambda: connections(base),
                 lambda value: value == count)
        print(f"ok sum(cturn_connections) = {count} while {count} clients are connected",
              flush=True)
        for client in held:
            client.close()
        wait_for("sum(cturn_connections) = 0", lambda: connections(base),
                 lambda value: value == 0)
        print("ok sum(cturn_connections) = 0 once they closed", flush=True)
    except (AssertionError, OSError, ValueError) as error:
        print(f"FAIL: {error}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
