"""The rolling-restart window: a cluster node stopped with SIGTERM keeps its
clients' names for --resume-window seconds. A user who resumes on another
node in time is back in the room with no leave and no join; one who does not
is announced `disconnected` when the window ends. Real processes: a
redis-server and three nodes."""

import asyncio
import signal
import time
import unittest

from cturn_client import TIMEOUT_SCALE, command, expect_quiet, form_room
from cturn_testcase import ServerTestCase

WINDOW = 4.0
# The live nodes reap expired leases every 250 ms; the rest is this test's
# own scheduling on a loaded machine.
REAPING = 0.25
MARGIN = 1.5 * TIMEOUT_SCALE


def pem(name):
    return f"-----BEGIN PUBLIC KEY-----\nKEY+OF/{name}==\n-----END PUBLIC KEY-----\n"


class ResumeWindow(ServerTestCase):
    cluster_nodes = 3
    server_flags = ("--resume-window", str(int(WINDOW)))

    async def on(self, index, name, pubkey=None):
        return await self.user(name, pubkey, node=self.nodes[index])

    async def stop_node(self, index, *clients):
        """SIGTERM to node `index`; its `clients` are told and closed.
        Returns when the signal was sent: the node parks its names after
        that, so the window cannot end sooner than WINDOW later, while the
        process's exit can come long after (TSan's takes a second or more)."""
        node = self.nodes[index]
        signalled = time.monotonic()
        node.send_signal(signal.SIGTERM)
        for client in clients:
            await client.expect_system("Server shutting down")
            await client.expect_closed()
        self.assertEqual(await asyncio.to_thread(node.wait), 0)
        return signalled

    async def test_a_user_who_resumes_elsewhere_in_time_causes_no_leave_and_no_join(self):
        alice = await self.on(1, "alice", pem("alice"))
        bob = await self.on(2, "bob", pem("bob"))
        await form_room("lobby", alice, bob)
        await self.stop_node(1, alice)
        # Alice comes back through another node, well within the window.
        back = await self.connect(label="alice'", node=self.nodes[0])
        await back.send(command("username", "alice", resume=alice.resume, pubkey=pem("alice")))
        welcome = await back.expect_welcome("Username set to: alice")
        self.assertNotEqual(welcome.resume, alice.resume)
        await back.expect_welcome("Joined room: lobby")
        await back.expect("pubkey", pem("bob"), sender="bob")
        # Past the window and the reaping: bob, on the third node, heard nothing.
        await asyncio.sleep(WINDOW + REAPING + MARGIN)
        await expect_quiet(back, bob)
        # The conversation goes on.
        await back.say("back again")
        await bob.expect_message("alice", {"content": "back again"})
        await bob.say("hi", to="alice")
        await back.expect_message("bob", {"content": "hi", "to": "alice"})
        # Alice is a member held by node 0 now: her leave is an ordinary one.
        back.room = "lobby"
        await back.leave()
        await bob.expect_system("alice left the room")

    async def test_a_user_who_does_not_resume_is_announced_when_the_window_ends(self):
        alice = await self.on(1, "alice")
        bob = await self.on(2, "bob")
        carol = await self.on(1, "carol")
        await form_room("lobby", alice, bob)
        stopped = await self.stop_node(1, alice, carol)
        # Nothing within the window...
        await bob.expect_nothing_for(max(0.0, stopped + WINDOW * 0.75 - time.monotonic()))
        # ...then the disconnect, once the lease has run out and been reaped.
        await bob.expect_system("alice disconnected", timeout=WINDOW + REAPING + MARGIN)
        self.assertGreater(time.monotonic() - stopped, WINDOW * 0.75)
        self.assertLess(time.monotonic() - stopped, WINDOW + REAPING + MARGIN)
        await expect_quiet(bob)
        # The names are free again, the room still has bob only, the tokens died.
        again = await self.connect(label="alice'", node=self.nodes[0])
        await again.send(command("username", "alice", resume=alice.resume))
        welcome = await again.expect_welcome("Username set to: alice")
        self.assertNotEqual(welcome.resume, alice.resume)
        await again.say("hello?")
        await again.expect_error("You must join a room first")
        await self.on(2, "carol")

    async def test_a_name_resumed_elsewhere_is_not_announced_when_the_window_ends(self):
        # Carol resumes outside any room, alice inside: neither is reaped
        # with the stopped node, and the names stay held.
        alice = await self.on(1, "alice")
        carol = await self.on(1, "carol")
        bob = await self.on(2, "bob")
        await form_room("lobby", alice, bob)
        await self.stop_node(1, alice, carol)
        back = await self.connect(label="alice'", node=self.nodes[2])
        await back.send(command("username", "alice", resume=alice.resume))
        await back.expect_welcome("Username set to: alice")
        await back.expect_welcome("Joined room: lobby")
        carol_back = await self.connect(label="carol'", node=self.nodes[0])
        await carol_back.send(command("username", "carol", resume=carol.resume))
        await carol_back.expect_welcome("Username set to: carol")
        await asyncio.sleep(WINDOW + REAPING + MARGIN)
        await expect_quiet(back, bob, carol_back)
        for name in ("alice", "carol"):
            taken = await self.connect(label=f"{name}?", node=self.nodes[0])
            await taken.send(command("username", name))
            await taken.expect_error("Username already taken")


if __name__ == "__main__":
    unittest.main()
