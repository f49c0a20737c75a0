"""SIGTERM while output is queued.

Clients that read get everything queued for them, in order, then
`Server shutting down`, then the close; a client that never reads cannot be
flushed and is cut off; the process exits 0 within --shutdown-grace-ms (plus
scheduling slack), whatever the clients do.
"""

import asyncio
import os
import signal
import time
import unittest

from adversary import DEFAULT_TIMEOUT, AdversaryTestCase, gather_all, server_pid
from cturn_client import Frame, command, form_room

GRACE = 1.5
SLACK = 2.0  # process start-up of the signal handling, scheduling, sanitizers


class ShutdownUnderLoad(AdversaryTestCase):
    server_flags = ("--shutdown-grace-ms", str(int(GRACE * 1000)), "--rate-limit", "0", "--rate-limit-bytes", "0")

    async def stop_server(self):
        """SIGTERM; returns the exit code and the seconds from the signal to the exit.

        The time is taken when the process exits, not when the test has read
        everything: the clients here are slower than the server under load."""
        started = time.monotonic()
        self.server.send_signal(signal.SIGTERM)

        def wait():
            code = self.server.wait(GRACE + SLACK + DEFAULT_TIMEOUT)
            return code, time.monotonic() - started

        return await asyncio.to_thread(wait)

    async def expect_end(self, client, allowed_notices=()):
        """`Server shutting down`, then only disconnect notices of peers, then the close."""
        await client.expect_system("Server shutting down")
        for line in await client.drain_until_closed(timeout=GRACE + SLACK):
            frame = Frame(line.rstrip(b"\n"))
            self.assertEqual(frame.type, "system", f"[{client.label}] after the notice: {frame!r}")
            self.assertIn(frame.content, {f"{n} disconnected" for n in allowed_notices},
                          f"[{client.label}] after the notice: {frame!r}")

    async def test_sigterm_with_pending_output(self):
        pair = await self.bystanders()
        alice, bob = await self.users("alice", "bob")
        carol = await self.user("carol", rcvbuf=4096)
        await form_room("lobby", alice, bob, carol)
        dave = await self.raw("dave", rcvbuf=4096)
        await dave.send(command("username", "dave"), command("join", "lobby"))
        for member in (alice, bob, carol):
            await member.expect_system("dave joined the room")
        stranger = await self.connect()
        typist = await self.connect()
        await typist.send(b'{"type":"message","body":{"content":"never fini')

        carol.stop_reading()  # carol and dave stop reading: output piles up for them
        count, size = 40, 50000  # 2 MB each: under the 4 MiB limit, far over the socket buffers
        for first in range(0, count, 5):
            await alice.send(*(command("message", f"{i}:" + "q" * size) for i in range(first, first + 5)))
            for i in range(first, first + 5):
                frame = await bob.expect_message("alice")
                self.assertEqual(frame.content.split(":")[0], str(i))
        await alice.say("sync", to="alice")  # everything before it is queued now
        await alice.expect_message("alice", {"content": "sync", "to": "alice"})

        stop = asyncio.create_task(self.stop_server())
        carol.resume_reading()
        for i in range(count):
            frame = await carol.expect_message("alice")
            self.assertEqual(frame.content.split(":")[0], str(i), "carol lost or reordered queued output")
        room = ("alice", "bob", "carol", "dave")
        await gather_all(self.expect_end(carol, room), self.expect_end(alice, room), self.expect_end(bob, room),
                         self.expect_end(pair.a, pair.names), self.expect_end(pair.b, pair.names),
                         self.expect_end(stranger), self.expect_end(typist))
        code, elapsed = await stop
        self.assertEqual(code, 0)
        self.assertLess(elapsed, GRACE + SLACK, "not stopped within the grace period")
        self.note(f"exit after {elapsed:.2f} s (grace {GRACE} s)")
        # dave never read: he has an in-order prefix of his frames, cut off.
        data, how = await dave.read_until_closed(timeout=DEFAULT_TIMEOUT)
        self.assertIn(how, ("eof", "reset"))
        lines = data.split(b"\n")[:-1]
        frames = [Frame(line) for line in lines]
        expected = ["Username set to: dave", "Joined room: lobby"]
        self.assertEqual([f.content for f in frames[:2]], expected[:len(frames[:2])])
        for i, frame in enumerate(frames[2:]):
            if frame.type == "system":  # the end of the stream
                self.assertEqual(frame.content, "Server shutting down")
                self.assertEqual(i, count, "shutdown notice before the queued output")
                break
            self.assertEqual(frame.content.split(":")[0], str(i))

    async def test_sigterm_while_a_client_keeps_flooding(self):
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        flooding = True

        async def flood():
            sent, deadline = 0, time.monotonic() + 30
            while flooding and sent < 200000 and time.monotonic() < deadline:
                try:
                    await alice.send(*(command("message", f"{i}") for i in range(sent, sent + 50)))
                except ConnectionError:
                    return sent
                sent += 50
                await asyncio.sleep(0.002)
            return sent

        flooder = asyncio.create_task(flood())
        await asyncio.sleep(0.3)
        stop = asyncio.create_task(self.stop_server())
        # bob: an in-order prefix of alice's messages, then the notice, then the close.
        received = 0
        for _ in range(200002):
            frame = await bob.recv(timeout=GRACE + SLACK)
            if frame.type == "system":
                self.assertIn(frame.content, ("Server shutting down", "alice disconnected"))
                if frame.content == "Server shutting down":
                    break
                continue
            self.assertEqual((frame.sender, frame.content), ("alice", str(received)))
            received += 1
        else:
            self.fail("no shutdown notice")
        for line in await bob.drain_until_closed(timeout=GRACE + SLACK):
            self.assertEqual(Frame(line.rstrip(b"\n")).content, "alice disconnected")
        flooding = False
        await asyncio.wait_for(flooder, DEFAULT_TIMEOUT)
        code, elapsed = await stop
        self.assertEqual(code, 0)
        self.assertLess(elapsed, GRACE + SLACK, "not stopped within the grace period")
        self.assertGreater(received, 0)

    async def test_connections_still_in_the_accept_backlog(self):
        """Connections the kernel completed but the server had not accepted yet
        when the signal came get the notice too, not a reset."""
        pid = server_pid(self.server)
        os.kill(pid, signal.SIGSTOP)
        try:
            waiting = [await self.connect() for _ in range(8)]
            self.server.send_signal(signal.SIGTERM)
        finally:
            os.kill(pid, signal.SIGCONT)
        stop = asyncio.create_task(
            asyncio.to_thread(self.server.wait, GRACE + SLACK + DEFAULT_TIMEOUT))
        for client in waiting:
            await self.expect_end(client)
        self.assertEqual(await stop, 0)

    async def test_sigterm_with_many_stalled_clients(self):
        alice = await self.user("alice")
        await alice.create("lobby")
        stalled = []
        for i in range(20):
            peer = await self.raw(f"stall{i}", rcvbuf=4096)
            await peer.send(command("username", f"stall{i}"), command("join", "lobby"))
            await alice.expect_system(f"stall{i} joined the room")
            stalled.append(peer)
        for _ in range(10):  # 1 MB for each stalled client
            await alice.send(*[command("message", "s" * 20000)] * 5)
        await alice.say("sync", to="alice")
        await alice.expect_message("alice", {"content": "sync", "to": "alice"})
        code, elapsed = await self.stop_server()
        self.assertEqual(code, 0)
        self.assertGreater(elapsed, GRACE - 0.2, "exited before the grace period although output was pending")
        self.assertLess(elapsed, GRACE + SLACK)
        for peer in stalled:
            _, how = await peer.read_until_closed(timeout=DEFAULT_TIMEOUT)
            self.assertIn(how, ("eof", "reset"))


if __name__ == "__main__":
    unittest.main()
