"""Configurable limits: line size, username timeout, connection cap, slow
consumers and the per-client rate limit."""

import asyncio
import time
import unittest

from cturn_client import DEFAULT_TIMEOUT, Frame, command, encode, expect_quiet, form_room
from cturn_testcase import ServerTestCase


def padded_frame(frame, size):
    """`frame` as one line of exactly `size` bytes before the newline (JSON allows trailing spaces)."""
    line = encode(frame)[:-1]
    assert len(line) <= size
    return line + b" " * (size - len(line)) + b"\n"


class LineLimit(ServerTestCase):
    server_flags = ("--max-line-bytes", "1024")

    async def test_line_of_exactly_the_limit_is_accepted(self):
        alice = await self.connect()
        await alice.send(padded_frame(command("username", "alice"), 1024))
        await alice.expect_welcome("Username set to: alice")
        await alice.expect_nothing()

    async def test_longer_line_is_refused_and_closed(self):
        alice = await self.connect()
        await alice.send(padded_frame(command("username", "alice"), 1025))
        await alice.expect_error("Message too long")
        await alice.expect_closed()

    async def test_detected_before_the_newline_arrives(self):
        alice = await self.connect()
        await alice.send(b"x" * 1024)
        # Could still be a line of exactly the limit; a barrier would end it.
        await alice.expect_nothing_for(0.5)
        await alice.send(b"x")
        await alice.expect_error("Message too long")
        await alice.expect_closed()

    async def test_detected_when_split_over_many_reads(self):
        alice = await self.user("alice")
        await alice.send_chunked(b"{" * 1100, chunk_size=100, pause=0.01)
        await alice.expect_error("Message too long")  # row 1 comes before invalid JSON
        await alice.expect_closed()

    async def test_earlier_frames_in_the_same_write_are_answered_first(self):
        alice = await self.connect()
        await alice.send(command("username", "alice"), command("create", "lobby"), b"y" * 1500)
        await alice.expect_welcome("Username set to: alice")
        await alice.expect_welcome("Created and joined room: lobby")
        await alice.expect_system("alice created the room")
        await alice.expect_error("Message too long")
        await alice.expect_closed()

    async def test_room_hears_the_disconnect_and_others_are_unaffected(self):
        alice, bob, carol = await self.users("alice", "bob", "carol")
        await form_room("lobby", alice, bob, carol)
        await bob.send(b"z" * 2000 + b"\n")
        await bob.expect_error("Message too long")
        await bob.expect_closed()
        for member in (alice, carol):
            await member.expect_system("bob disconnected")
        await alice.say("a" * 900)
        await carol.expect_message("alice", {"content": "a" * 900})
        await expect_quiet(alice, carol)


class DefaultLineLimit(ServerTestCase):
    async def test_default_limit_is_64_kib(self):
        alice = await self.connect()
        await alice.send(padded_frame(command("username", "alice"), 65536))
        await alice.expect_welcome("Username set to: alice")
        await alice.send(b" " * 65536)
        await alice.expect_nothing_for(0.5)  # a barrier would end the pending line
        await alice.send(b" ")
        await alice.expect_error("Message too long")
        await alice.expect_closed()


class UsernameTimeout(ServerTestCase):
    server_flags = ("--username-timeout-ms", "500")

    async def assert_timed_out(self, client, connected_at):
        await client.expect_error("Username not set in time")
        self.assertGreaterEqual(time.monotonic() - connected_at, 0.45)
        await client.expect_closed()

    async def test_silent_client_is_closed(self):
        connected_at = time.monotonic()
        client = await self.connect()
        await self.assert_timed_out(client, connected_at)

    async def test_other_frames_do_not_reset_the_timer(self):
        connected_at = time.monotonic()
        client = await self.connect()
        for _ in range(4):
            await client.send(command("create", "lobby"), b"junk\n")
            await client.expect_error("You must set a username first")
            await client.expect_error("Invalid JSON format")
            await asyncio.sleep(0.1)
        await self.assert_timed_out(client, connected_at)

    async def test_failed_username_attempts_do_not_count(self):
        await self.user("alice")
        connected_at = time.monotonic()
        client = await self.connect()
        await client.send(command("username", "alice"), command("username", " "))
        await client.expect_error("Username already taken")
        await client.expect_error("Username cannot be empty")
        await self.assert_timed_out(client, connected_at)

    async def test_registered_client_stays(self):
        alice = await self.connect()
        await asyncio.sleep(0.2)
        await alice.register("alice")
        await alice.expect_nothing_for(1.0)  # a timer: only waiting past its deadline shows it stopped
        await alice.create("lobby")

    async def test_timeout_of_one_does_not_affect_others(self):
        alice = await self.user("alice")
        await alice.create("lobby")
        lazy = await self.connect()
        await lazy.expect_error("Username not set in time")
        await lazy.expect_closed()
        await self.disconnect_handled(lazy)
        await alice.expect_nothing()
        bob = await self.user("bob")
        await bob.join("lobby")
        await alice.expect_system("bob joined the room")


class ConnectionCap(ServerTestCase):
    server_flags = ("--max-connections", "2")

    async def fill(self):
        """Two connections: a registered one and one that is not (both count)."""
        alice = await self.user("alice")
        idle = await self.connect()
        await idle.send(b"junk\n")
        await idle.expect_error("Invalid JSON format")  # proves it was accepted
        return alice, idle

    async def test_extra_clients_are_refused(self):
        alice, idle = await self.fill()
        for _ in range(3):
            extra = await self.connect()
            await extra.expect_error("Server full")
            await extra.expect_closed()
        await idle.register("bob")
        await form_room("lobby", alice, idle)

    async def test_slot_is_reusable_after_a_disconnect(self):
        alice, idle = await self.fill()
        extra = await self.connect()
        await extra.expect_error("Server full")
        await extra.expect_closed()
        await idle.close()
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while True:  # the server may not have processed the close yet
            carol = await self.connect()
            await carol.send(command("username", "carol"))
            reply = await carol.recv()
            if reply.type != "error" or reply.content != "Server full":
                break
            await carol.expect_closed()
            self.assertLess(time.monotonic(), deadline, "slot never freed")
            await asyncio.sleep(0.05)
        self.assertEqual(reply, {"type": "welcome", "body": {"content": "Username set to: carol"}})
        carol.name = "carol"
        await form_room("lobby", alice, carol)


class SlowConsumer(ServerTestCase):
    # No rate limit in the way of the flood; 256 KiB of pending output allowed.
    server_flags = ("--max-output-bytes", "262144", "--rate-limit", "100000", "--rate-burst", "100000",
                    "--rate-limit-bytes", "0")

    BATCH = 4  # messages per round; bob reads each round before the next is sent
    SIZE = 16000

    async def test_client_that_stops_reading_is_dropped(self):
        alice, bob = await self.users("alice", "bob")
        carol = await self.user("carol", rcvbuf=4096)
        await form_room("lobby", alice, bob, carol)
        carol.stop_reading()

        sent = 0
        carol_gone_at = None
        while carol_gone_at is None or sent < carol_gone_at + 5 * self.BATCH:
            self.assertLess(sent, 1600, "carol was never dropped (25 MB sent)")
            batch = [command("message", f"{i}:" + "m" * self.SIZE) for i in range(sent, sent + self.BATCH)]
            await alice.send(*batch)
            for i in range(sent, sent + self.BATCH):
                frame = await bob.recv()
                if frame.type == "system":
                    self.assertIsNone(carol_gone_at, f"second system frame {frame!r}")
                    self.assertEqual(frame.content, "carol disconnected")
                    carol_gone_at = sent
                    frame = await bob.recv()
                self.assertEqual(frame.sender, "alice")
                self.assertEqual(frame.content.split(":")[0], str(i), "bob missed or reordered a message")
            sent += self.BATCH

        await alice.expect_system("carol disconnected")
        await expect_quiet(alice, bob)
        # Whatever reached carol is an in-order prefix of the messages, then the close.
        carol.resume_reading()
        lines = await carol.drain_until_closed(timeout=3 * DEFAULT_TIMEOUT)
        if lines and not lines[-1].endswith(b"\n"):
            lines.pop()  # cut off by the close
        for i, line in enumerate(lines):
            frame = Frame(line[:-1])
            self.assertEqual((frame.sender, frame.content.split(":")[0]), ("alice", str(i)),
                             "carol's frames are not an in-order prefix of the messages")
        self.assertLess(len(lines), sent)
        self.server.wait_for_log(r"\bslow-consumer\b")


class ByteRateLimit(ServerTestCase):
    """Default settings: a burst of big messages slows its sender (--rate-limit-bytes,
    1 MiB/s after a 1 MiB burst) instead of filling a slower member's 4 MiB queue."""

    MESSAGES = 200
    SIZE = 64 * 1024 - 100  # the command, JSON and all, fits --max-line-bytes (64 KiB)
    READ_RATE = 1_000_000  # bytes per second bob reads

    async def test_a_big_burst_slows_its_sender_not_cuts_its_receivers(self):
        alice = await self.user("alice")
        bob = await self.user("bob", rcvbuf=64 * 1024)  # little room in the kernel: bob's pace shows
        await form_room("lobby", alice, bob)
        batch = [command("message", f"{i}:" + "b" * (self.SIZE - 50)) for i in range(self.MESSAGES)]
        started = time.monotonic()
        sending = asyncio.create_task(alice.send(*batch))
        received = 0
        for i in range(self.MESSAGES):
            frame = await bob.recv()
            self.assertEqual((frame.type, frame.sender), ("message", "alice"), frame)
            self.assertEqual(frame.content.split(":")[0], str(i), "bob missed or reordered a message")
            received += len(frame.raw) + 1
            # Pacing, not waiting for an event: bob reads no faster than READ_RATE.
            await asyncio.sleep(max(0.0, received / self.READ_RATE - (time.monotonic() - started)))
        await sending
        elapsed = time.monotonic() - started
        await expect_quiet(alice, bob)
        self.assertFalse([line for line in self.server.lines if "slow-consumer" in line])
        # About 13 MB at 1 MiB/s after a 1 MiB burst: the sender was slowed.
        self.assertGreater(elapsed, 9.0)


class RateLimit(ServerTestCase):
    server_flags = ("--rate-limit", "50", "--rate-burst", "10")

    async def room(self, *names):
        clients = await self.users(*names)
        await form_room("lobby", *clients)
        await asyncio.sleep(0.5)  # let every bucket refill after the setup frames
        return clients

    async def test_excess_frames_are_delayed_not_dropped(self):
        alice, bob = await self.room("alice", "bob")
        started = time.monotonic()
        await alice.send(*(command("message", str(i)) for i in range(100)))
        for i in range(100):
            await bob.expect_message("alice", {"content": str(i)})
        elapsed = time.monotonic() - started
        # 10 frames at once, then 90 at 50/s: about 1.8 s.
        self.assertGreaterEqual(elapsed, 1.5, "100 frames went through without being slowed down")
        await expect_quiet(alice, bob)

    async def test_other_clients_are_not_slowed(self):
        alice, bob, carol = await self.room("alice", "bob", "carol")
        started = time.monotonic()
        await alice.send(*(command("message", str(i)) for i in range(100)))
        await asyncio.sleep(0.1)
        await carol.say("from carol")
        while True:  # carol's message overtakes most of alice's throttled flood
            frame = await bob.expect("message")
            if frame.sender == "carol":
                break
        self.assertLess(time.monotonic() - started, 1.2)


if __name__ == "__main__":
    unittest.main()
