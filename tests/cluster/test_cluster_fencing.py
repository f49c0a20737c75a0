"""Fencing: once the cluster has announced a name's holder gone, nothing more
is said under that name by the node that held it, even for bytes that reach
Redis late. Real processes: a redis-server and three nodes, one of them
paused with SIGSTOP while its client types."""

import asyncio

from cturn_client import TIMEOUT_SCALE, command, form_room
from cturn_testcase import ServerTestCase

# A dead node's names go within its 2 s lease and a 250 ms reaping tick.
REAPED_WITHIN = 3.0 + 0.5 * TIMEOUT_SCALE


class Fencing(ServerTestCase):
    cluster_nodes = 3

    async def on(self, index, name):
        return await self.user(name, node=self.nodes[index])

    async def test_a_paused_nodes_late_message_never_speaks_for_the_names_next_holder(self):
        alice, bob = await self.on(0, "alice"), await self.on(1, "bob")
        await form_room("lobby", alice, bob)
        paused = self.nodes[0]
        mark = len(paused.lines)
        paused.pause()
        try:
            # Waits in the paused node's socket until it runs again.
            await alice.send(command("message", "written before the pause ended"))
            await bob.expect_system("alice disconnected", timeout=REAPED_WITHIN)
            successor = await self.on(2, "alice")
            await successor.join("lobby")
            await bob.expect_system("alice joined the room")
        finally:
            paused.resume()
        # The paused node reads the old line and tries to publish it as
        # "alice": Redis refuses it, and the node gives up.
        await asyncio.to_thread(paused.wait_for_log, r"\bredis-lost\b", 10 * TIMEOUT_SCALE, mark)
        await successor.send(command("message", "from the name's holder"))
        await bob.expect_message("alice", {"content": "from the name's holder"})
        await bob.expect_nothing()
