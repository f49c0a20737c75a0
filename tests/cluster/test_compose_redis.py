"""The Compose cluster's Redis, outside Docker: docker/redis-entrypoint with
docker/redis.conf, redis-acl.conf, sentinel.conf and sentinel-acl.conf, run
by Debian's redis-server on loopback exactly as the containers run them, and
real nodes against it.

- Redis refuses anyone without a password; the nodes' user `cturn` serves a
  cluster (names, rooms, messages across nodes, a leave, a disconnect) and
  cannot touch a key or channel outside cturn:, nor reconfigure Redis.
- A master, one replica and three Sentinels: after kill -9 of the master the
  Sentinels promote the replica (it says `master` to ROLE) and the users and
  their limits hold there too; nodes that find the master through these
  Sentinels (the Compose nodes' settings) chat across nodes again. That one
  is skipped by a server without --redis-sentinels.
"""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from cturn_client import TIMEOUT_SCALE, command
from cturn_testcase import ServerTestCase
from redis_process import free_port
from server_process import ServerProcess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKER = os.path.join(REPO, "docker")
ENTRYPOINT = os.path.join(DOCKER, "redis-entrypoint")
NODE_PASSWORD = 'node "pass" \\ word'  # quotes and a backslash: the entrypoint must escape them
ADMIN_PASSWORD = "admin pass"
START_TIMEOUT = 10.0 * TIMEOUT_SCALE
# The Sentinels' down-after-milliseconds is 1 s; an election and the
# promotion follow. The cluster must serve again within 10 s of the kill
# (issue bound, checked in CI through Compose); Redis's part of it is asserted
# here with room for the nodes' rediscovery.
FAILOVER_BOUND = 6.0 * TIMEOUT_SCALE
FAILOVER_WAIT = 30.0 * TIMEOUT_SCALE
# The nodes' part (fail-stop, ask the Sentinels again, serve) comes on top;
# the cluster's own test (cluster/test_cluster_failover) holds it to 10 s.
NODES_BOUND = 15.0 * TIMEOUT_SCALE


def encode(*arguments):
    data = f"*{len(arguments)}\r\n".encode()
    for argument in arguments:
        item = argument if isinstance(argument, bytes) else str(argument).encode()
        data += f"${len(item)}\r\n".encode() + item + b"\r\n"
    return data


def read_reply(stream):
    """One RESP reply: str for a status, RedisError for an error, bytes,
    int, None or a list."""
    line = stream.readline()
    if not line:
        raise ConnectionError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = stream.read(size + 2)
        return data[:-2]
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [read_reply(stream) for _ in range(size)]
    raise AssertionError(f"unexpected reply line {line!r}")


class RedisError(str):
    pass


def call(port, *arguments, user=None, password=None, timeout=5.0):
    """The reply to one command on a new connection, after AUTH when a
    password is given; an AUTH error is returned instead."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        stream = connection.makefile("rb")
        if password is not None:
            auth = ("AUTH", user, password) if user else ("AUTH", password)
            connection.sendall(encode(*auth))
            reply = read_reply(stream)
            if isinstance(reply, RedisError):
                return reply
        connection.sendall(encode(*arguments))
        return read_reply(stream)


def as_node(port, *arguments, timeout=5.0):
    return call(port, *arguments, user="cturn", password=NODE_PASSWORD, timeout=timeout)


def as_sentinel_admin(port, *arguments):
    return call(port, *arguments, user="cturn-admin-sentinel", password=ADMIN_PASSWORD)


class EntrypointProcess:
    """docker/redis-entrypoint run here: a Redis (master or replica) or a
    Sentinel on a free loopback port."""

    def __init__(self, sentinel=False, replica_of=None, monitor=None, peers=()):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cturn-compose-redis-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTURN_")}
        env.update(CTURN_REDIS_CONF_DIR=DOCKER, CTURN_REDIS_DIR=self.dir, CTURN_REDIS_PASSWORD=NODE_PASSWORD,
                   CTURN_REDIS_ADMIN_PASSWORD=ADMIN_PASSWORD, CTURN_SENTINEL_DIR=self.dir)
        args = [ENTRYPOINT]
        if sentinel:
            args.append("--sentinel")
            env["CTURN_SENTINEL_MONITOR"] = monitor
            env["CTURN_SENTINEL_PEERS"] = ",".join(peers)
        elif replica_of:
            env["CTURN_REDIS_REPLICA_OF"] = replica_of
        # The files' own port and bind (0.0.0.0) overridden for loopback;
        # everything else as in the containers.
        args += ["--port", str(self.port), "--bind", "127.0.0.1"]
        if not sentinel:
            args += ["--dir", self.dir]
        self.log_path = os.path.join(self.dir, "log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def log(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()[-4000:]

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if as_node(self.port, "PING", timeout=1) == "PONG":
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"no PONG on port {self.port}:\n{self.log()}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


class ComposeRedisTestCase(ServerTestCase):
    """No server of its own: each test starts the Redis it needs and its nodes."""

    async def asyncSetUp(self):
        self.clients = []
        self.redis = None
        self.nodes = []

    def entrypoint(self, **kwargs):
        process = EntrypointProcess(**kwargs)
        self.addCleanup(process.cleanup)
        return process

    async def start_node(self, redis_address):
        node = ServerProcess(("--redis", redis_address, "--redis-user", "cturn"),
                             env={"CTURN_REDIS_PASSWORD": NODE_PASSWORD})
        self.addCleanup(node.kill)
        self.nodes.append(node)
        await asyncio.to_thread(node.start)
        await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=")
        return node


class ComposeRedisAcl(ComposeRedisTestCase):
    async def test_nodes_serve_as_the_limited_user(self):
        redis = await asyncio.to_thread(self.entrypoint().wait_ready)
        await self.start_node(redis.address)
        await self.start_node(redis.address)
        # Every script and command a cluster runs: claims, a room created and
        # joined across nodes, messages, a leave, a disconnect, a name freed.
        alice = await self.connect("alice", node=self.nodes[0])
        bob = await self.connect("bob", node=self.nodes[1])
        await alice.register("alice")
        await bob.register("bob")
        await alice.create("ops")
        await bob.join("ops")
        await alice.expect_system("bob joined the room")
        await bob.say("hello from node 2")
        await alice.expect_message("bob", {"content": "hello from node 2"})
        await alice.say("hello from node 1")
        await bob.expect_message("alice", {"content": "hello from node 1"})
        await bob.leave()
        await alice.expect_system("bob left the room")
        await alice.close()
        self.clients.remove(alice)
        again = await self.connect("alice again", node=self.nodes[1])
        await again.register("alice")
        for node in self.nodes:
            self.assertNotIn("NOPERM", "\n".join(node.lines))

    async def test_the_node_user_reaches_nothing_else(self):
        redis = await asyncio.to_thread(self.entrypoint().wait_ready)
        port = redis.port
        self.assertTrue(call(port, "PING").startswith("NOAUTH"))
        self.assertTrue(call(port, "PING", password=NODE_PASSWORD).startswith("WRONGPASS"))
        self.assertTrue(call(port, "PING", user="cturn", password="wrong").startswith("WRONGPASS"))
        self.assertEqual(as_node(port, "SET", "cturn:probe", "1"), "OK")
        for command in (("SET", "other", "1"), ("GET", "other"),
                        ("PUBLISH", "cturn-room-channel:ops", "x"), ("PUBLISH", "other", "x"),
                        ("SUBSCRIBE", "other"), ("CONFIG", "GET", "dir"), ("KEYS", "*"),
                        ("FLUSHALL",), ("REPLICAOF", "NO", "ONE"),
                        ("ACL", "LIST"), ("MONITOR",), ("EVAL", "return redis.call('GET', 'x')", "0"),
                        ("EVAL", "return redis.call('PUBLISH', 'x', 'y')", "0")):
            reply = as_node(port, *command)
            self.assertIsInstance(reply, RedisError, command)
            # NOPERM, or from a script Redis's own words for it.
            self.assertTrue(reply.startswith("NOPERM") or "user executing the script can't" in reply,
                            f"{command}: {reply}")
        # The nodes' own channel is theirs.
        self.assertEqual(as_node(port, "PUBLISH", "cturn:room-channel:ops", "x"), 0)
        # The admin users cannot read the data either.
        reply = as_sentinel_admin(port, "GET", "cturn:probe")
        self.assertTrue(reply.startswith("NOPERM"), reply)

    async def test_the_node_user_may_park_its_lease(self):
        # A node stopped with SIGTERM parks its lease for the resume window
        # with a bare PEXPIRE (source/cluster/node_lease.cpp); refused, the
        # lease would run out after its 2 s and the window would be lost.
        redis = await asyncio.to_thread(self.entrypoint().wait_ready)
        port = redis.port
        self.assertEqual(as_node(port, "SET", "cturn:probe", "1", "PX", "2000"), "OK")
        self.assertEqual(as_node(port, "PEXPIRE", "cturn:probe", "10000"), 1)
        reply = as_node(port, "PEXPIRE", "other", "10000")
        self.assertTrue(reply.startswith("NOPERM"), reply)

    async def test_a_node_without_the_user_cannot_start_serving(self):
        redis = await asyncio.to_thread(self.entrypoint().wait_ready)
        node = ServerProcess(("--redis", redis.address),
                             env={"CTURN_REDIS_PASSWORD": NODE_PASSWORD})
        self.addCleanup(node.kill)
        self.nodes.append(node)
        await asyncio.to_thread(node.start)
        client = await self.connect("carol", node=node)
        await client.send(command("username", "carol"))
        await client.expect_system("Server unavailable")
        self.assertFalse(any("cluster-ready" in line for line in node.lines))


def server_knows(flag):
    binary = os.environ.get("CTURN_SERVER_BINARY")
    if not binary:
        return False
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTURN_")}
    text = subprocess.run([binary, "--help"], env=env, capture_output=True, text=True,
                          timeout=30).stdout
    return flag in text


class ComposeRedisFailover(ComposeRedisTestCase):
    async def start_group(self):
        """The master, its replica and three Sentinels, as in Compose; returns
        them once every Sentinel knows the replica and the two others."""
        master = await asyncio.to_thread(self.entrypoint().wait_ready)
        replica = self.entrypoint(replica_of=master.address)
        await asyncio.to_thread(replica.wait_ready)
        await asyncio.to_thread(wait_until, lambda: as_node(replica.port, "ROLE")[3] == b"connected",
                                START_TIMEOUT, f"the replica in sync\n{replica.log()}")
        sentinels = [self.entrypoint(sentinel=True, monitor=master.address) for _ in range(3)]
        for sentinel in sentinels:
            await asyncio.to_thread(sentinel.wait_ready)

        def every_sentinel_sees_everyone():
            for sentinel in sentinels:
                replicas = call(sentinel.port, "SENTINEL", "REPLICAS", "cturn")
                peers = call(sentinel.port, "SENTINEL", "SENTINELS", "cturn")
                if not isinstance(replicas, list) or len(replicas) != 1 or len(peers) != 2:
                    return False
            return True

        await asyncio.to_thread(wait_until, every_sentinel_sees_everyone, FAILOVER_WAIT,
                                "each Sentinel knows the replica and the two others")
        return master, replica, sentinels

    @unittest.skipUnless(server_knows("--redis-sentinels"),
                         "this cturn-server has no --redis-sentinels")
    async def test_nodes_chat_again_after_the_master_is_killed(self):
        """Compose's nodes: through the Sentinels (asked without a password),
        as the ACL user; new chat across nodes after kill -9 of the master."""
        master, replica, sentinels = await self.start_group()
        flags = ("--redis-sentinels", ",".join(s.address for s in sentinels),
                 "--redis-master", "cturn", "--redis-user", "cturn")
        for _ in range(2):
            node = ServerProcess(flags, env={"CTURN_REDIS_PASSWORD": NODE_PASSWORD})
            self.addCleanup(node.kill)
            self.nodes.append(node)
            await asyncio.to_thread(node.start)
            await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=")

        async def chat(tag):
            first = await self.connect(f"a-{tag}", node=self.nodes[0])
            second = await self.connect(f"b-{tag}", node=self.nodes[1])
            await first.register(f"a-{tag}")
            await second.register(f"b-{tag}")
            await first.create(f"room-{tag}")
            await second.join(f"room-{tag}")
            await first.expect_system(f"b-{tag} joined the room")
            await second.say(f"hello {tag}")
            await first.expect_message(f"b-{tag}", {"content": f"hello {tag}"})

        await chat("before")
        marks = [len(node.lines) for node in self.nodes]
        master.kill()
        killed = time.monotonic()
        for node, mark in zip(self.nodes, marks):
            await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=",
                                    FAILOVER_WAIT, mark)
        await chat("after")
        took = time.monotonic() - killed
        print(f"failover: chat across nodes again {took:.1f} s after kill -9 of the master")
        self.assertLess(took, NODES_BOUND)
        for node in self.nodes:
            self.assertNotIn("NOPERM", "\n".join(node.lines))

    async def test_sentinels_promote_the_replica_with_the_users_intact(self):
        master, replica, sentinels = await self.start_group()
        self.assertEqual(as_node(master.port, "SET", "cturn:before", "1"), "OK")
        await asyncio.to_thread(wait_until, lambda: as_node(replica.port, "GET", "cturn:before")
                                == b"1", START_TIMEOUT, "the write replicated")
        # The nodes need no password to ask where the master is; `cturn` works too.
        self.assertEqual(call(sentinels[0].port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "cturn"),
                         [b"127.0.0.1", str(master.port).encode()])
        self.assertEqual(as_node(sentinels[0].port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "cturn"),
                         [b"127.0.0.1", str(master.port).encode()])
        reply = call(sentinels[0].port, "SENTINEL", "FAILOVER", "cturn")
        self.assertTrue(reply.startswith("NOPERM"), reply)
        reply = as_node(sentinels[0].port, "SENTINEL", "REMOVE", "cturn")
        self.assertTrue(reply.startswith("NOPERM"), reply)

        killed = time.monotonic()
        master.kill()

        def promoted():
            for sentinel in sentinels:
                answer = call(sentinel.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "cturn")
                if answer != [b"127.0.0.1", str(replica.port).encode()]:
                    return False
            return as_node(replica.port, "ROLE")[0] == b"master"

        await asyncio.to_thread(wait_until, promoted, FAILOVER_WAIT,
                                f"the replica promoted\n{replica.log()}\n{sentinels[0].log()}")
        took = time.monotonic() - killed
        print(f"failover: the replica was master for every Sentinel {took:.1f} s after kill -9")
        self.assertLess(took, FAILOVER_BOUND)
        # The same users and limits on the new master, and it takes writes.
        self.assertEqual(as_node(replica.port, "GET", "cturn:before"), b"1")
        self.assertEqual(as_node(replica.port, "SET", "cturn:after", "1"), "OK")
        self.assertTrue(as_node(replica.port, "SET", "other", "1").startswith("NOPERM"))
        self.assertTrue(call(replica.port, "PING").startswith("NOAUTH"))
        # Sentinel rewrote its configuration, and had the new master rewrite
        # its own, in their directories; the image's files stay as they are.
        with open(os.path.join(sentinels[0].dir, "sentinel.conf")) as conf:
            self.assertIn(str(replica.port), conf.read())
        with open(os.path.join(replica.dir, "redis.conf")) as conf:
            self.assertIn("Generated by CONFIG REWRITE", conf.read())
        for name in ("redis.conf", "sentinel.conf"):
            with open(os.path.join(DOCKER, name)) as conf:
                self.assertNotIn("CONFIG REWRITE", conf.read(), name)

    async def test_a_sentinel_started_again_after_a_failover_watches_the_new_master(self):
        """Its rewritten file is gone (a tmpfs in Compose) and its monitor
        line still names the first master: it must ask the other Sentinels.
        Without that it watches the dead master, knows no replica and no
        peer, and never counts toward the quorum again."""
        master, replica, sentinels = await self.start_group()
        master.kill()

        def promoted():
            return all(call(s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "cturn")
                       == [b"127.0.0.1", str(replica.port).encode()] for s in sentinels)

        await asyncio.to_thread(wait_until, promoted, FAILOVER_WAIT, "the replica promoted")
        sentinels[0].kill()
        # As the Compose file starts it: the first master's address, the
        # three Sentinels as peers (itself among them, not answering).
        again = self.entrypoint(sentinel=True, monitor=master.address,
                                peers=[s.address for s in sentinels])
        await asyncio.to_thread(again.wait_ready)
        self.assertEqual(call(again.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "cturn"),
                         [b"127.0.0.1", str(replica.port).encode()], again.log())
        self.assertIn(f"name 127.0.0.1:{replica.port} as master", again.log())

        def joined():
            return len(call(again.port, "SENTINEL", "SENTINELS", "cturn")) == 2

        # It finds the two others on the master's hello channel: a voter again.
        await asyncio.to_thread(wait_until, joined, FAILOVER_WAIT,
                                f"the restarted Sentinel sees its two peers\n{again.log()}")


if __name__ == "__main__":
    unittest.main()
