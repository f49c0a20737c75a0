"""Redis failover: nodes that find their Redis master through Sentinels
serve again on the promoted replica after the master is killed, and a node
never serves on a replica, whether a Sentinel named it, it was demoted under
the node (REPLICAOF), or it accepts writes (`replica-read-only no`). Real
processes on loopback: redis-server as master, replica and three Sentinels,
and the nodes (docs/cluster.md, Redis failover)."""

import asyncio
import re
import time

from cturn_client import TIMEOUT_SCALE, command, form_room
from cturn_testcase import ServerTestCase
from redis_process import RedisProcess, free_port
from sentinel_group import MASTER_NAME, SentinelGroup
from server_process import ServerProcess

# The promise: with `down-after-milliseconds 1000`, new chats across nodes
# work within 10 s of the master's death.
FAILOVER_BOUND = 10.0
# Waits for what must happen eventually (not the bound under test).
PATIENCE = 30.0 * TIMEOUT_SCALE


def logged_since(node, mark, pattern):
    return any(re.search(pattern, line) for line in node.lines[mark:])


class FailoverTestCase(ServerTestCase):
    """No cluster from the base class: each test builds its own Redis."""

    async def asyncSetUp(self):
        self.clients = []
        self.redis = None
        self.nodes = []

    def node(self, *flags):
        node = ServerProcess(flags)
        self.addCleanup(node.kill)
        self.nodes.append(node)
        return node

    async def start_node(self, *flags, serving=True):
        node = self.node(*flags)
        await asyncio.to_thread(node.start)
        if serving:
            await self.until_serving(node, 0)
        return node

    async def until_serving(self, node, mark):
        await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=", PATIENCE, mark)

    async def on(self, node, name):
        return await self.user(name, node=node)

    async def turned_away(self, node):
        """A new client of `node` is told `Server unavailable` and closed."""
        late = await self.connect(node=node)
        await late.expect_system("Server unavailable")
        await late.expect_closed()


class SentinelFailover(FailoverTestCase):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.group = SentinelGroup()
        self.addCleanup(self.group.cleanup)
        await asyncio.to_thread(self.group.start)
        # A Sentinel that is down comes first: each node asks the next one.
        self.dead_sentinel = f"127.0.0.1:{free_port()}"
        flags = ("--redis-sentinels", f"{self.dead_sentinel},{self.group.sentinel_list}",
                 "--redis-master", MASTER_NAME)
        for _ in range(3):
            await self.start_node(*flags)

    async def test_chat_resumes_on_the_promoted_replica_and_names_keep_one_holder(self):
        a, b, c = self.nodes
        for node in self.nodes:
            self.assertTrue(logged_since(node, 0, rf"\bsentinel-unreachable "
                                                  rf"sentinel={self.dead_sentinel}\b"))
        alice, bob, carol = await self.on(a, "alice"), await self.on(b, "bob"), await self.on(c, "carol")
        await form_room("lobby", alice, bob, carol)
        await alice.send(command("message", "before"))
        await bob.expect_message("alice", {"content": "before"})
        await carol.expect_message("alice", {"content": "before"})

        marks = [len(node.lines) for node in self.nodes]
        self.group.master.kill()  # SIGKILL
        killed_at = time.monotonic()
        for client in (alice, bob, carol):
            await client.expect_system("Server unavailable", timeout=PATIENCE)
            await client.expect_closed(timeout=PATIENCE)
        for node, mark in zip(self.nodes, marks):
            await self.until_serving(node, mark)
            self.assertTrue(logged_since(node, mark, rf"\bredis-master redis=127\.0\.0\.1:"
                                                 rf"{self.group.replica.port}\b"),
                            "the node serves on the promoted replica")

        # A new chat across nodes; the users registered before the failover
        # register again (on other nodes than before).
        alice, bob, carol = await self.on(b, "alice"), await self.on(c, "bob"), await self.on(a, "carol")
        await form_room("lobby", alice, bob, carol)
        await alice.send(command("message", "after"))
        await bob.expect_message("alice", {"content": "after"})
        await carol.expect_message("alice", {"content": "after"})
        took = time.monotonic() - killed_at
        print(f"\nchat across nodes works again {took:.2f} s after the master was killed")
        self.assertLess(took, FAILOVER_BOUND)

        # One holder per name afterwards: a held name is refused on every
        # other node, and a name claimed on two nodes at once goes to one.
        for node in (a, c):
            again = await self.connect(node=node)
            await again.send(command("username", "alice"))
            await again.expect_error("Username already taken")
        rivals = [await self.connect(node=node) for node in self.nodes]
        await asyncio.gather(*(rival.send(command("username", "dave")) for rival in rivals))
        replies = [await rival.recv() for rival in rivals]
        welcomed = [reply for reply in replies if reply.type == "welcome"]
        taken = [reply for reply in replies if reply.type == "error"]
        self.assertEqual(len(welcomed), 1, replies)
        self.assertEqual([reply.content for reply in taken], ["Username already taken"] * 2)


class DirectMode(FailoverTestCase):
    """--redis names one server; it must be a master when the node joins, and
    a node whose server is demoted stops at once and does not serve on it."""

    async def test_a_demoted_redis_stops_the_node_until_it_is_a_master_again(self):
        self.redis = RedisProcess()
        other = RedisProcess()
        for server in (self.redis, other):
            self.addCleanup(server.cleanup)
            await asyncio.to_thread(server.start)
        node = await self.start_node("--redis", self.redis.address)
        alice = await self.on(node, "alice")
        mark = len(node.lines)

        await asyncio.to_thread(self.redis.command, "REPLICAOF", other.host, other.port)
        demoted_at = time.monotonic()
        await alice.expect_system("Server unavailable", timeout=PATIENCE)
        took = time.monotonic() - demoted_at
        print(f"\nthe node gave up {took:.2f} s after its Redis was demoted")
        # READONLY on the next lease renewal (every 0.25 s) is a loss at once,
        # not after a second without a renewal.
        self.assertLess(took, 0.75 * TIMEOUT_SCALE)
        await asyncio.to_thread(node.wait_for_log, r"\bredis-not-master redis=\S+ role=slave\b",
                                PATIENCE, mark)
        # Not serving on the replica, however long it stays one.
        for _ in range(2):
            await self.turned_away(node)
            await asyncio.sleep(1)
        self.assertFalse(logged_since(node, mark, r"\bcluster-ready\b"))

        back = len(node.lines)
        await asyncio.to_thread(self.redis.command, "REPLICAOF", "NO", "ONE")
        await self.until_serving(node, back)
        await self.on(node, "alice")

    async def test_a_writable_replica_is_never_served_on(self):
        """A replica with `replica-read-only no` takes writes that its master
        never sees: a node on it would hand out names a node on the master
        also hands out."""
        self.redis = RedisProcess()
        self.addCleanup(self.redis.cleanup)
        await asyncio.to_thread(self.redis.start)
        replica = RedisProcess(extra=("--replicaof", self.redis.host, str(self.redis.port),
                                      "--replica-read-only", "no"))
        self.addCleanup(replica.cleanup)
        await asyncio.to_thread(replica.start)
        on_master = await self.start_node("--redis", self.redis.address)
        on_replica = await self.start_node("--redis", replica.address, serving=False)
        # Settled: joined (wrongly), or refused the replica.
        await asyncio.to_thread(on_replica.wait_for_log,
                                r"\bcluster-ready node=|\bredis-not-master ", PATIENCE)
        # A claim on the replica's node would be written to the replica only.
        rival = await self.connect(node=on_replica)
        await rival.send(command("username", "zed"))
        await rival.expect_system("Server unavailable")
        await rival.expect_closed()
        zed = await self.on(on_master, "zed")
        await zed.send(command("message", "still the only zed"))
        await asyncio.to_thread(on_replica.wait_for_log,
                                r"\bredis-not-master redis=\S+ role=slave\b", PATIENCE)
        self.assertFalse(logged_since(on_replica, 0, r"\bcluster-ready\b"))
