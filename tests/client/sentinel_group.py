"""A Redis replication group watched by Sentinels, on loopback, for the
failover tests: a master, one replica and three Sentinels (real
redis-server processes; a Sentinel is `redis-server CONFIG --sentinel`, the
same program Debian's redis-sentinel runs)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

from redis_process import START_TIMEOUT, RedisProcess, free_port, wait_until_answering

MASTER_NAME = "cturn"


def sentinel_config(port, master, quorum=2):
    """The config lines of one Sentinel watching `master` (a RedisProcess).
    `down-after-milliseconds 1000`: the bound the cluster's failover promise
    is stated for (docs/cluster.md, Redis failover)."""
    return "\n".join([
        f"port {port}",
        "bind 127.0.0.1",
        f"sentinel monitor {MASTER_NAME} {master.host} {master.port} {quorum}",
        f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
        f"sentinel failover-timeout {MASTER_NAME} 3000",
        f"sentinel parallel-syncs {MASTER_NAME} 1",
        "",
    ])


class SentinelProcess:
    host = "127.0.0.1"

    def __init__(self, master):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cturn-sentinel-")
        # A Sentinel rewrites its config file with what it learns: its own copy.
        self.config = os.path.join(self.dir, "sentinel.conf")
        with open(self.config, "w", encoding="utf-8") as config:
            config.write(sentinel_config(self.port, master))
        self._proc = None

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def start(self):
        self._proc = subprocess.Popen(
            [shutil.which("redis-server"), self.config, "--sentinel", "--dir", self.dir,
             "--loglevel", "warning"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_answering(self._proc, self.host, self.port, "redis sentinel")
        return self

    def cleanup(self):
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class SentinelGroup:
    """Master, replica, three Sentinels; `sentinels` is the value of
    --redis-sentinels. Every process is cleaned up by cleanup()."""

    def __init__(self):
        self.master = RedisProcess()
        self.replica = RedisProcess(extra=("--replicaof", RedisProcess.host,
                                           str(self.master.port)))
        self.sentinels = []

    @property
    def sentinel_list(self):
        return ",".join(sentinel.address for sentinel in self.sentinels)

    def start(self):
        self.master.start()
        self.replica.start()
        self.wait_until_replicated()
        for _ in range(3):
            sentinel = SentinelProcess(self.master)
            self.sentinels.append(sentinel)
            sentinel.start()
        # Each Sentinel must know the replica (it learns it from the master's
        # INFO, every 10 s at first) and the other Sentinels before a
        # failover can elect anyone.
        deadline = time.monotonic() + 30 * (START_TIMEOUT / 10)
        while time.monotonic() < deadline:
            if all(self.knows_group(sentinel) for sentinel in self.sentinels):
                return self
            time.sleep(0.2)
        raise AssertionError("the Sentinels did not learn the replica and each other in time")

    def wait_until_replicated(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if b"master_link_status:up" in self.replica.command("INFO", "replication"):
                return
            time.sleep(0.05)
        raise AssertionError("the replica did not sync with the master")

    @staticmethod
    def knows_group(sentinel):
        with socket.create_connection((sentinel.host, sentinel.port), timeout=5) as connection:
            name = MASTER_NAME.encode()
            connection.sendall(b"*3\r\n$8\r\nSENTINEL\r\n$6\r\nMASTER\r\n"
                               + f"${len(name)}\r\n".encode() + name + b"\r\n")
            time.sleep(0.05)
            reply = connection.recv(65536).split(b"\r\n")

        def field(key):
            try:
                return reply[reply.index(key) + 2]
            except ValueError:
                return b""

        return field(b"num-slaves") == b"1" and field(b"num-other-sentinels") == b"2"

    def cleanup(self):
        for sentinel in self.sentinels:
            sentinel.cleanup()
        self.replica.cleanup()
        self.master.cleanup()
