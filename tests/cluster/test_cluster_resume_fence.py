"""A takeover is fenced like a claim: once a resume has moved a name to
another node, the old node can no longer speak for it, and a command of the
old connection that reaches Redis late drops that connection, not the node.
Deterministic: the old node's links to Redis go through a freezing proxy, so
the old connection's message reaches Redis after the takeover. Real
processes: a redis-server, nodes, and the proxy."""

import asyncio

from cturn_client import TIMEOUT_SCALE, command, expect_quiet, form_room
from cturn_testcase import ServerTestCase
from freezing_proxy import FreezingProxy

# The order in which a node opens its links (cluster_hub::join_cluster).
COMMANDS, EVENTS, LEASES = 0, 1, 2


class TakeoverFence(ServerTestCase):
    cluster_nodes = 2

    async def test_a_message_of_the_old_connection_after_the_takeover_speaks_for_no_one(self):
        proxy = await FreezingProxy(self.redis.host, self.redis.port).start()
        self.addAsyncCleanup(proxy.close)
        old_node = self.cluster_node(redis_address=proxy.address)
        await asyncio.to_thread(old_node.start)
        await asyncio.to_thread(old_node.wait_for_log, r"\bcluster-ready node=")
        await proxy.wait_for_links(3)

        ghost = await self.connect(label="alice", node=old_node)
        await ghost.register("alice")
        bob = await self.connect(label="bob", node=self.nodes[0])
        await bob.register("bob")
        await form_room("lobby", ghost, bob)

        # The old node's message and its news of the takeover are held on
        # the way; its lease link is not, so it stays a node in good standing.
        proxy.freeze(COMMANDS)
        proxy.freeze(EVENTS)
        await ghost.send(command("message", "from the old connection"))
        await asyncio.sleep(0.1 * TIMEOUT_SCALE)
        back = await self.connect(label="alice'", node=self.nodes[1])
        await back.send(command("username", "alice", resume=ghost.resume))
        await back.expect_welcome("Username set to: alice")
        await back.expect_welcome("Joined room: lobby")
        # The message reaches Redis after the takeover, then the news.
        proxy.thaw(COMMANDS)
        await asyncio.sleep(0.2 * TIMEOUT_SCALE)
        proxy.thaw(EVENTS)
        await ghost.expect_system("Session resumed elsewhere")
        await ghost.expect_closed()

        await back.say("from the name's holder")
        await bob.expect_message("alice", {"content": "from the name's holder"})
        await expect_quiet(back, bob)
        # The old node refused one message, nothing more: it still serves.
        carol = await self.connect(label="carol", node=old_node)
        await carol.register("carol")
        self.assertFalse([line for line in old_node.lines if "redis-lost" in line])
        self.assertTrue([line for line in old_node.lines if "message-after-takeover" in line])


if __name__ == "__main__":
    import unittest
    unittest.main()
