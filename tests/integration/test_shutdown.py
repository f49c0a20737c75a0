"""SIGTERM/SIGINT: every client hears `Server shutting down`, is closed, exit code 0."""

import asyncio
import signal
import time
import unittest

from cturn_client import DEFAULT_TIMEOUT, Client, Frame, command, form_room
from cturn_testcase import ServerTestCase


class Shutdown(ServerTestCase):
    async def stop_server(self, sig=signal.SIGTERM):
        self.server.send_signal(sig)
        return await asyncio.to_thread(self.server.wait)

    async def expect_shutdown(self, client, room_members=()):
        await client.expect_system("Server shutting down")
        # Peers closed by the same shutdown may still be announced; nothing else may come.
        allowed = {f"{name} disconnected" for name in room_members}
        for line in await client.drain_until_closed():
            frame = Frame(line.rstrip(b"\n"))
            self.assertEqual(frame.type, "system", f"[{client.label}] after shutdown: {frame!r}")
            self.assertIn(frame.content, allowed, f"[{client.label}] after shutdown: {frame!r}")

    async def everyone(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", alice, bob)
        await carol.create("solo")
        stranger = await self.connect()
        typing = await self.connect()
        await typing.send(b'{"type":"userna')  # a partial line must not delay shutdown
        return alice, bob, carol, stranger, typing

    async def test_sigterm(self):
        alice, bob, carol, stranger, typing = await self.everyone()
        started = time.monotonic()
        stop = asyncio.create_task(self.stop_server())
        await self.expect_shutdown(alice, ["bob"])
        await self.expect_shutdown(bob, ["alice"])
        for client in (carol, stranger, typing):
            await self.expect_shutdown(client)
        self.assertEqual(await stop, 0)
        self.assertLess(time.monotonic() - started, 5.0 + DEFAULT_TIMEOUT)  # 5 s default grace

    async def test_sigint(self):
        alice, bob, carol, stranger, typing = await self.everyone()
        stop = asyncio.create_task(self.stop_server(signal.SIGINT))
        await self.expect_shutdown(alice, ["bob"])
        await self.expect_shutdown(bob, ["alice"])
        for client in (carol, stranger, typing):
            await self.expect_shutdown(client)
        self.assertEqual(await stop, 0)

    async def test_idle_server_exits_0(self):
        self.assertEqual(await self.stop_server(), 0)

    async def test_queued_output_is_flushed_first(self):
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        await alice.send(*(command("message", f"m{i}") for i in range(20)))
        # Frames are handled in order, so once alice's own echo arrives all 20 were queued.
        await alice.say("sync", to="alice")
        await alice.expect_message("alice", {"content": "sync", "to": "alice"})
        stop = asyncio.create_task(self.stop_server())
        for i in range(20):
            await bob.expect_message("alice", {"content": f"m{i}"})
        await self.expect_shutdown(bob, ["alice"])
        await self.expect_shutdown(alice, ["bob"])
        self.assertEqual(await stop, 0)

    async def test_stops_accepting(self):
        alice = await self.user("alice")
        stop = asyncio.create_task(self.stop_server())
        await self.expect_shutdown(alice)
        try:
            late = await Client.connect(self.server.host, self.server.port)
        except (ConnectionRefusedError, asyncio.TimeoutError):
            pass
        else:  # accepted by the kernel before the listener closed: must not be served
            self.clients.append(late)
            try:
                await late.send(command("username", "late"))
            except ConnectionError:
                pass
            for line in await late.drain_until_closed():
                self.assertNotIn(b"welcome", line)
        self.assertEqual(await stop, 0)


class ShutdownWithStalledClient(ServerTestCase):
    # A high output limit keeps the stalled client connected with megabytes pending.
    server_flags = ("--shutdown-grace-ms", "500", "--max-output-bytes", "67108864")

    async def test_client_that_never_reads_does_not_block_exit(self):
        alice, bob = await self.users("alice", "bob")
        carol = await self.user("carol", rcvbuf=4096)
        await form_room("lobby", alice, bob, carol)
        carol.stop_reading()
        content = "x" * 60000
        for _ in range(40):  # 12 MB for carol: far more than the socket buffers hold
            await alice.send(*[command("message", content)] * 5)
            for _ in range(5):
                await bob.expect_message("alice", {"content": content})
        started = time.monotonic()
        self.server.send_signal(signal.SIGTERM)
        await self.expect_shutdown_frames(alice, bob)
        code = await asyncio.to_thread(self.server.wait)
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - started, 0.5 + DEFAULT_TIMEOUT)

    async def expect_shutdown_frames(self, *clients):
        for client in clients:
            await client.expect_system("Server shutting down")


if __name__ == "__main__":
    unittest.main()
