"""A node whose hub strand is busy for seconds (as a long burst of fan-out
makes it) keeps its lease, because the lease is kept on a strand of its own:
it catches up and goes on serving. A lost Redis still stops it, and a hub
strand stuck for longer than the bound (10 s) lets its names go.

The strand is made busy by the server's test hook (cluster/hub_stall_hook.hpp,
compiled in with CTURN_TEST_HOOKS: the dev, asan and tsan presets); without
it these tests are skipped. Real processes: a redis-server and the nodes."""

import asyncio
import os
import tempfile
import time

from cturn_client import TIMEOUT_SCALE, command, form_room
from cturn_testcase import ServerTestCase

STALL_FILE = "CTURN_DEBUG_STALL_HUB_FILE"
# docs/cluster.md: a hub strand that has not run the lease's tick for 10 s is
# stuck; the lease keeper checks every 0.25 s and retires the node at once.
HUB_STUCK_AFTER = 10.0


class BusyHub(ServerTestCase):
    cluster_nodes = 2

    async def busy_node(self):
        """A third node whose hub strand the test can make busy."""
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.stall_file = os.path.join(folder.name, "stall")
        plain_env = self.server_env
        self.server_env = {**plain_env, STALL_FILE: self.stall_file}
        try:
            node = self.cluster_node()
        finally:
            self.server_env = plain_env
        await asyncio.to_thread(node.start)
        await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=")
        if not any("debug-stall-hub-armed" in line for line in node.lines):
            self.skipTest("server built without CTURN_TEST_HOOKS")
        return node

    async def stall(self, node, seconds):
        """Blocks the node's hub strand for `seconds`; returns when it starts."""
        ready = self.stall_file + ".new"
        with open(ready, "w", encoding="ascii") as request:
            request.write(str(int(seconds * 1000)))
        os.rename(ready, self.stall_file)
        await asyncio.to_thread(node.wait_for_log, r"\bdebug-stall-hub ms=")
        return time.monotonic()

    async def on(self, node, name):
        return await self.user(name, node=node)

    async def test_a_hub_busy_for_three_seconds_keeps_its_clients(self):
        """Fails when the lease is kept on the hub strand: the node has not
        renewed for 1 s when its strand comes back, and gives up although
        Redis is healthy."""
        node = await self.busy_node()
        alice, bob = await self.on(node, "alice"), await self.on(self.nodes[0], "bob")
        await form_room("lobby", alice, bob)
        await self.stall(node, 3.0)
        await bob.send(command("message", "while alice's node is busy"))
        await asyncio.to_thread(node.wait_for_log, r"\bdebug-stall-hub-end\b",
                                timeout=10 * TIMEOUT_SCALE)
        # It catches up: what came meanwhile is delivered, and it serves on.
        await alice.expect_message("bob", {"content": "while alice's node is busy"})
        await alice.send(command("message", "caught up"))
        await bob.expect_message("alice", {"content": "caught up"})
        carol = await self.on(node, "carol")
        await carol.join("lobby")
        await bob.expect_system("carol joined the room")
        await alice.expect_system("carol joined the room")
        # Long enough for a late give-up to show.
        await alice.expect_nothing_for(1.5)
        self.assertFalse([l for l in node.lines if "redis-lost" in l or "hub-stuck" in l],
                         node.log())

    async def test_redis_lost_while_the_hub_is_busy_still_stops_the_node(self):
        """The lease's own strand notices the silence while the hub strand is
        busy; the node gives up as soon as its strand runs again."""
        node = await self.busy_node()
        alice = await self.on(node, "alice")
        started = await self.stall(node, 3.0)
        self.redis.pause()
        try:
            await alice.expect_system("Server unavailable", timeout=6 * TIMEOUT_SCALE)
            # At the end of the stall, not a lease round later.
            self.assertLess(time.monotonic() - started, 3.0 + 1.0 * TIMEOUT_SCALE)
            await alice.expect_closed()
            line = await asyncio.to_thread(node.wait_for_log, r"\bredis-lost\b")
            self.assertIn("redis not answering", line)
        finally:
            self.redis.resume()

    async def test_a_hub_stuck_past_the_bound_lets_its_names_go(self):
        node = await self.busy_node()
        alice, bob = await self.on(node, "alice"), await self.on(self.nodes[0], "bob")
        await form_room("lobby", alice, bob)
        started = await self.stall(node, HUB_STUCK_AFTER + 3.0)
        await bob.expect_system("alice disconnected", timeout=(HUB_STUCK_AFTER + 2.0) * TIMEOUT_SCALE)
        after = time.monotonic() - started
        print(f"\nalice's name was let go {after:.2f} s after her node's hub got stuck")
        # Not before the bound (a round early at most, and the log line seen late).
        self.assertGreater(after, HUB_STUCK_AFTER - 1.0)
        again = await self.on(self.nodes[1], "alice")
        await again.join("lobby")
        await bob.expect_system("alice joined the room")
        # When its strand runs again, the node stops serving its old clients.
        await alice.expect_system("Server unavailable", timeout=6 * TIMEOUT_SCALE)
        await alice.expect_closed()
        # And joins again as a new node.
        first = next(i for i, l in enumerate(node.lines) if "cluster-ready" in l)
        await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=", start=first + 1)
