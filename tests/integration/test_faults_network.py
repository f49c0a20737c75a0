"""Network faults: resets (SO_LINGER {1,0} then close) in the middle of a frame
and in the middle of a broadcast, half-closed and half-open peers, and a
client that drips one byte a second before registering.

Each test checks the outcome for the faulty peer, that the room's other
members receive everything in order (and see the same disconnects at the same
place), that the server releases the connection, and that a fresh client is
served."""

import asyncio
import time
import unittest

from adversary import DEFAULT_TIMEOUT, AdversaryTestCase
from cturn_client import command, encode, expect_quiet, form_room

USERNAME_TIMEOUT = 2.0
GRACE = 0.6


class Faults(AdversaryTestCase):
    server_flags = ("--username-timeout-ms", str(int(USERNAME_TIMEOUT * 1000)),
                    "--shutdown-grace-ms", str(int(GRACE * 1000)))

    async def room_of(self, *names):
        clients = await self.users(*names)
        await form_room("lobby", *clients)
        return clients

    async def raw_member(self, name, members, rcvbuf=None):
        """A RawPeer registered and in "lobby"; `members` hear it join."""
        peer = await self.raw(name, rcvbuf=rcvbuf)
        await peer.send(command("username", name), command("join", "lobby"))
        for member in members:
            await member.expect_system(f"{name} joined the room")
        return peer

    async def assert_name_free(self, name):
        client = await self.connect()
        reply = await self.retry_while(client, command("username", name), "Username already taken")
        self.assertEqual(reply, {"type": "welcome", "body": {"content": f"Username set to: {name}"}})
        await client.close()
        self.clients.remove(client)

    # -- resets ------------------------------------------------------------------

    async def test_reset_mid_frame(self):
        pair = await self.bystanders()
        alice, bob = await self.room_of("alice", "bob")
        fd_baseline = self.probe.fd_count()
        partials = [
            b'{"type":"message","body":{"content":"hal',
            b'{"type":"message","body":{"content":"' + b"y" * 30000,
            b'{"type":"leave","body":{}',
            encode(command("message", "whole"))[:-1],  # everything but the newline
            encode(command("message", "two-bytes"))[:2],
        ]
        for index, partial in enumerate(partials):
            name = f"victim{index}"
            victim = await self.raw_member(name, (alice, bob))
            await victim.send(partial)
            await asyncio.sleep(0.05)  # let the server read it
            victim.reset()
            for member in (alice, bob):
                await member.expect_system(f"{name} disconnected")
            await self.assert_name_free(name)
        # Before registration: a partial username frame never sets the name.
        stranger = await self.raw("stranger")
        await stranger.send(encode(command("username", "ghost"))[:-3])
        await asyncio.sleep(0.05)
        stranger.reset()
        ghost = await self.user("ghost")  # at once: the name was never taken
        await ghost.close()
        self.clients.remove(ghost)
        await alice.say("after the resets")
        await bob.expect_message("alice", {"content": "after the resets"})
        await self.disconnect_handled(stranger, ghost)
        await expect_quiet(alice, bob)
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline), fd_baseline)
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_reset_of_a_receiver_mid_broadcast(self):
        pair = await self.bystanders()
        alice, bob, carol = await self.room_of("alice", "bob", "carol")
        fd_baseline = self.probe.fd_count()
        victims = [await self.raw_member(f"victim{i}", (alice, bob, carol), rcvbuf=4096) for i in range(3)]
        batch, size, batches = 10, 4000, 30
        reset_after = {5: 0, 10: 1, 15: 2}  # batch number -> victim, reset while output is pending
        seen = {bob: [], carol: []}
        for number in range(batches):
            first = number * batch
            await alice.send(*(command("message", f"{i}:" + "r" * size) for i in range(first, first + batch)))
            if number in reset_after:
                victims[reset_after[number]].reset()
            for reader in (bob, carol):
                got = 0
                while got < batch:
                    frame = await reader.recv()
                    if frame.type == "system":
                        self.assertRegex(frame.content, r"^victim\d disconnected$", f"[{reader.label}]")
                        seen[reader].append((first + got, frame.content))
                        continue
                    self.assertEqual((frame.sender, frame.content.split(":")[0]), ("alice", str(first + got)),
                                     f"[{reader.label}] missed or reordered a message")
                    got += 1
        # Disconnects that came after the last message.
        for reader in (bob, carol):
            while len(seen[reader]) < len(victims):
                frame = await reader.expect("system")
                seen[reader].append((batches * batch, frame.content))
        self.assertEqual(seen[bob], seen[carol], "bob and carol saw the resets at different places")
        self.assertEqual(sorted(c for _, c in seen[bob]), [f"victim{i} disconnected" for i in range(3)])
        for _ in range(3):
            await alice.expect("system")
        await expect_quiet(alice, bob, carol)
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline), fd_baseline)
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_reset_of_the_sender_mid_broadcast(self):
        pair = await self.bystanders()
        bob, carol = await self.room_of("bob", "carol")
        for round_ in range(5):
            name = f"sender{round_}"
            sender = await self.raw_member(name, (bob, carol))
            await sender.send(*(command("message", f"{i}") for i in range(300)))
            sender.reset()
            counts = []
            for reader in (bob, carol):
                received = 0
                while True:
                    frame = await reader.recv()
                    if frame.type == "system":
                        self.assertEqual(frame.content, f"{name} disconnected", f"[{reader.label}] {frame!r}")
                        break
                    self.assertEqual((frame.sender, frame.content), (name, str(received)),
                                     f"[{reader.label}] not an in-order prefix")
                    received += 1
                counts.append(received)
            # Whatever the server read before the reset, both saw the same prefix.
            self.assertEqual(counts[0], counts[1], "bob and carol saw different prefixes")
            await expect_quiet(bob, carol)
        await pair.exchange()
        await self.assert_fresh_client_served()

    # -- half-closed and half-open peers ---------------------------------------------

    async def test_frames_then_half_close(self):
        pair = await self.bystanders()
        alice, bob = await self.room_of("alice", "bob")
        dave = await self.raw_member("dave", (alice, bob))
        await dave.send(*(command("message", f"last words {i}") for i in range(3)))
        dave.shutdown_write()
        for member in (alice, bob):
            for i in range(3):
                await member.expect_message("dave", {"content": f"last words {i}"})
            await member.expect_system("dave disconnected")
        _, how = await dave.read_until_closed()
        self.assertIn(how, ("eof", "reset"))
        await self.assert_name_free("dave")
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_partial_frame_then_half_close(self):
        alice, bob = await self.room_of("alice", "bob")
        dave = await self.raw_member("dave", (alice, bob))
        await dave.send(encode(command("message", "never finished"))[:-2])
        dave.shutdown_write()
        for member in (alice, bob):
            await member.expect_system("dave disconnected")
        await expect_quiet(alice, bob)
        _, how = await dave.read_until_closed()
        self.assertIn(how, ("eof", "reset"))
        await self.assert_fresh_client_served()

    async def test_peer_that_never_closes_after_the_server_half_closed(self):
        # After an error that closes, the server half-closes and waits for the
        # peer; a peer that neither reads nor closes is cut off after the grace.
        pair = await self.bystanders()
        alice, bob = await self.room_of("alice", "bob")
        fd_baseline = self.probe.fd_count()
        mute = await self.raw_member("mute", (alice, bob), rcvbuf=4096)
        await mute.send(b"x" * 70000)  # over the 64 KiB line limit, no newline
        started = time.monotonic()
        for member in (alice, bob):
            await member.expect_system("mute disconnected", timeout=GRACE + DEFAULT_TIMEOUT)
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, GRACE + 2.0, "the half-closed peer was held too long")
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline), fd_baseline)
        data, how = await mute.read_until_closed()
        self.assertTrue(data.endswith(b'{"type":"error","body":{"content":"Message too long"}}\n'), data[-200:])
        self.assertIn(how, ("eof", "reset"))
        await self.assert_name_free("mute")
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_idle_half_open_peers_do_not_disturb_others(self):
        # Peers that went silent (no FIN, no RST, never read): until keepalive
        # reaps them they are members like any other and cost nothing.
        pair = await self.bystanders()
        alice, bob = await self.room_of("alice", "bob")
        silent = [await self.raw_member(f"silent{i}", (alice, bob), rcvbuf=4096) for i in range(5)]
        await self.assert_idle_cpu("with five silent peers connected")
        for i in range(50):
            await alice.say(f"m{i}")
        for i in range(50):
            await bob.expect_message("alice", {"content": f"m{i}"})
        for peer in silent:
            peer.reset()
        for i in range(5):
            await bob.expect("system")
        await pair.exchange()
        await self.assert_fresh_client_served()

    # -- a slow drip before registration ------------------------------------------------

    async def test_one_byte_per_second_before_registration(self):
        pair = await self.bystanders()
        fd_baseline = self.probe.fd_count()
        started = time.monotonic()
        dripper = await self.raw("dripper")
        data = encode(command("username", "dripper"))

        async def drip():
            for i, byte in enumerate(data):
                outcome = await dripper.try_send(bytes([byte]), timeout=2)
                if outcome != "sent":
                    return i, outcome, time.monotonic()
                await asyncio.sleep(1.0)
            return len(data), "finished", time.monotonic()

        dripping = asyncio.create_task(drip())
        try:
            frames = await dripper.read_lines(1, timeout=USERNAME_TIMEOUT + DEFAULT_TIMEOUT)
            answered = time.monotonic() - started
            self.assertEqual(frames[0], {"type": "error", "body": {"content": "Username not set in time"}})
            self.assertGreaterEqual(answered, USERNAME_TIMEOUT - 0.1, "timed out early")
            self.assertLess(answered, USERNAME_TIMEOUT + 1.5, "the drip kept the connection alive")
            _, how = await dripper.read_until_closed(timeout=GRACE + DEFAULT_TIMEOUT)
            self.assertIn(how, ("eof", "reset"))
            # The drip goes on, but the server has closed for good within the grace.
            sent, outcome, stopped = await asyncio.wait_for(dripping, GRACE + DEFAULT_TIMEOUT)
        finally:
            dripping.cancel()
        self.assertEqual(outcome, "closed", f"still accepting the drip after {sent} bytes")
        self.assertLess(stopped - started, USERNAME_TIMEOUT + GRACE + 2.5)
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline), fd_baseline)
        await self.assert_name_free("dripper")
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_many_drippers_at_once(self):
        pair = await self.bystanders()
        fd_baseline = self.probe.fd_count()
        drippers = [await self.raw(f"drip{i}") for i in range(20)]
        data = encode(command("username", "never"))
        for second in range(3):
            for peer in drippers:
                await peer.try_send(data[second:second + 1], timeout=1)
            await pair.exchange(1)
            await asyncio.sleep(0.8)
        for peer in drippers:
            frames = await peer.read_lines(1, timeout=DEFAULT_TIMEOUT)
            self.assertEqual(frames[0].content, "Username not set in time")
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline, timeout=GRACE + DEFAULT_TIMEOUT), fd_baseline)
        await pair.exchange()
        await self.assert_fresh_client_served()


if __name__ == "__main__":
    unittest.main()
