"""Every link to Redis proves that it is alive: a connection that stalls
without an error (frozen by a proxy, as a NAT or load balancer that drops
its state would) makes its node stop serving within 3 s, and messages a
stalled node sent reach Redis late without speaking for anyone. Real
processes: a redis-server, nodes, and a freezing TCP proxy in between."""

import asyncio
import time

from cturn_client import TIMEOUT_SCALE, command, form_room
from cturn_testcase import ServerTestCase
from freezing_proxy import FreezingProxy

# docs/cluster.md: a stalled link is found within 3 s (a PING after 0.5 s
# idle, its reply due within 2 s, checked every 0.25 s).
STALL_FOUND_WITHIN = 3.0 + 0.5 * TIMEOUT_SCALE
# The order in which a node opens its links (cluster_hub::join_cluster).
COMMANDS, EVENTS, LEASES = 0, 1, 2


class StalledLinks(ServerTestCase):
    cluster_nodes = 2

    async def node_through_proxy(self):
        """A third node whose links to Redis all go through a freezing proxy."""
        proxy = await FreezingProxy(self.redis.host, self.redis.port).start()
        self.addAsyncCleanup(proxy.close)
        node = self.cluster_node(redis_address=proxy.address)
        await asyncio.to_thread(node.start)
        await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=")
        await proxy.wait_for_links(3)
        return proxy, node

    async def on(self, node, name):
        return await self.user(name, node=node)

    async def assert_stall_found(self, link):
        proxy, node = await self.node_through_proxy()
        alice, bob = await self.on(node, "alice"), await self.on(self.nodes[0], "bob")
        await form_room("lobby", alice, bob)
        proxy.freeze(link)
        frozen_at = time.monotonic()
        await alice.expect_system("Server unavailable", timeout=STALL_FOUND_WITHIN)
        self.assertLess(time.monotonic() - frozen_at, STALL_FOUND_WITHIN)
        await alice.expect_closed()
        # Its room is told, and the name is free, as for any lost node.
        await bob.expect_system("alice disconnected", timeout=STALL_FOUND_WITHIN)
        proxy.thaw(link)

    async def test_a_stalled_events_link_stops_the_node(self):
        await self.assert_stall_found(EVENTS)

    async def test_a_stalled_commands_link_stops_the_node(self):
        await self.assert_stall_found(COMMANDS)

    async def test_a_stalled_lease_link_stops_the_node(self):
        await self.assert_stall_found(LEASES)

    async def test_a_node_that_gives_up_frees_its_names_at_once(self):
        """Only the lease link stalls: the node gives up (no renewal for 1 s)
        while its commands link works, and retires its node id at once. Its
        names were held until its lease ran out, 0.75 s to 1.25 s later, and
        a user who reconnected meanwhile was told `Username already taken`.
        (A node that joins again retires its old id too: here it cannot.)"""
        proxy, node = await self.node_through_proxy()
        alice, bob = await self.on(node, "alice"), await self.on(self.nodes[0], "bob")
        await form_room("lobby", alice, bob)
        proxy.refuse_new()
        proxy.freeze(LEASES)
        await alice.expect_system("Server unavailable", timeout=STALL_FOUND_WITHIN)
        gave_up_at = time.monotonic()
        again = await self.connect(label="alice", node=self.nodes[1])
        reply = await self.retry_while(again, command("username", "alice"),
                                       "Username already taken", timeout=0.3 * TIMEOUT_SCALE)
        self.assertEqual(reply.type, "welcome", reply)
        print(f"\nalice registered again {time.monotonic() - gave_up_at:.3f} s after "
              "her node gave up")
        await bob.expect_system("alice disconnected")
        proxy.thaw(LEASES)

    async def test_a_message_that_reaches_redis_late_speaks_for_no_one(self):
        proxy, node = await self.node_through_proxy()
        alice, bob = await self.on(node, "alice"), await self.on(self.nodes[0], "bob")
        await form_room("lobby", alice, bob)
        proxy.freeze(COMMANDS)
        proxy.freeze(LEASES)
        await alice.send(command("message", "held on the way to Redis"))
        await alice.expect_system("Server unavailable", timeout=STALL_FOUND_WITHIN)
        await bob.expect_system("alice disconnected", timeout=STALL_FOUND_WITHIN)
        successor = await self.on(self.nodes[1], "alice")
        await successor.join("lobby")
        await bob.expect_system("alice joined the room")
        # The held bytes reach Redis now, after the name has a new holder.
        proxy.thaw(COMMANDS)
        proxy.thaw(LEASES)
        await asyncio.sleep(0.5 * TIMEOUT_SCALE)
        await successor.send(command("message", "from the name's holder"))
        await bob.expect_message("alice", {"content": "from the name's holder"})
        await bob.expect_nothing()


class RedisIdleTimeout(ServerTestCase):
    cluster_nodes = 2

    async def test_quiet_links_survive_redis_closing_idle_clients(self):
        self.assertEqual(await asyncio.to_thread(self.redis.command, "CONFIG", "SET", "timeout", "2"),
                         b"+OK\r\n")
        alice, bob = await self.lobby_across_nodes()
        await alice.expect_nothing_for(4.5)
        await alice.send(command("message", "still here"))
        await bob.expect_message("alice", {"content": "still here"})
