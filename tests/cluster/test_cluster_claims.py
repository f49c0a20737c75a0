"""A name's claim against a real Redis that answers late: the client may be
gone by the time its claim is granted, and the name must not stay held."""

import asyncio
import time

from cturn_client import TIMEOUT_SCALE, command
from cturn_testcase import ServerTestCase


class ClaimInFlight(ServerTestCase):
    cluster_nodes = 2
    server_flags = ("--username-timeout-ms", "1000")

    async def test_a_name_claimed_for_a_client_already_gone_is_free_again(self):
        alice = await self.connect(label="alice", node=self.nodes[0])
        connected = time.monotonic()
        await asyncio.sleep(0.6)
        # Redis stalls for 0.7 s from 0.6 s on: the claim is granted after
        # alice's username deadline (1 s) has closed her connection. The
        # stall is shorter than the node's give-up time (1 s without a lease
        # renewal), so the node keeps serving through it.
        stall = asyncio.create_task(asyncio.to_thread(self.redis.command, "DEBUG", "SLEEP", "0.7"))
        while await asyncio.to_thread(self.redis.answers_within, 0.05):
            pass  # until the stall has begun
        await alice.send(command("username", "alice"))
        await alice.expect_error("Username not set in time", timeout=3 * TIMEOUT_SCALE)
        self.assertLess(time.monotonic() - connected, 1.3 + TIMEOUT_SCALE)
        self.assertEqual(await stall, b"+OK\r\n")

        # Everyone may take the name at once, on either node.
        for node in self.nodes:
            bob = await self.connect(label="alice-again", node=node)
            await bob.register("alice")
            await bob.close()
            await self.disconnect_handled(bob)
