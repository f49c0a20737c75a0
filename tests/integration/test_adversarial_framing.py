"""Adversarial framing: the line limit at max-1 / max / max+1 bytes, whole and
split over reads; a line that never ends (memory stays flat, CPU idle
afterwards); UTF-8 characters split across reads.

Every test checks the defined outcome, that the rest of the room and an
unrelated pair of bystanders lost nothing, and that a fresh client is served."""

import asyncio
import unittest

from adversary import MIB, AdversaryTestCase, RssSampler
from cturn_client import command, encode, expect_quiet, form_room

MAX = 1000  # deliberately not a power of two


def message_line(size, cr=False):
    """A `message` frame whose line is exactly `size` bytes before the "\\n"
    (a trailing "\\r" counts), padded inside the content; returns (bytes, content)."""
    empty = encode(command("message", ""))[:-1]
    pad = size - len(empty) - (1 if cr else 0)
    assert pad > 0
    content = "".join(chr(ord("a") + i % 26) for i in range(pad))
    line = encode(command("message", content))[:-1]
    return line + (b"\r\n" if cr else b"\n"), content


class LineLimitEdges(AdversaryTestCase):
    server_flags = ("--max-line-bytes", str(MAX))

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.pair = await self.bystanders()
        self.alice, self.bob = await self.users("alice", "bob")
        await form_room("lobby", self.alice, self.bob)

    async def send_split(self, client, data, mode):
        if mode == "whole":
            await client.send(data)
        elif mode == "halves":
            await client.send(data[:len(data) // 2])
            await asyncio.sleep(0.05)
            await client.send(data[len(data) // 2:])
        elif mode == "newline-alone":
            await client.send(data[:-1])
            await asyncio.sleep(0.05)
            await client.send(data[-1:])
        elif mode == "7-byte-chunks":
            await client.send_chunked(data, chunk_size=7, pause=0)
        elif mode == "3-pieces":
            third = len(data) // 3
            for piece in (data[:third], data[third:2 * third], data[2 * third:]):
                await client.send(piece)
                await asyncio.sleep(0.03)
        else:
            raise ValueError(mode)

    MODES = ("whole", "halves", "newline-alone", "7-byte-chunks", "3-pieces")

    async def test_lines_of_max_minus_one_and_max_are_relayed(self):
        for size in (MAX - 1, MAX):
            for cr in (False, True):
                for mode in self.MODES:
                    with self.subTest(size=size, cr=cr, mode=mode):
                        data, content = message_line(size, cr)
                        self.assertEqual(len(data.rstrip(b"\n")), size)
                        await self.send_split(self.alice, data, mode)
                        await self.bob.expect_message("alice", {"content": content})
        await expect_quiet(self.alice, self.bob)
        await self.pair.exchange()
        await self.assert_fresh_client_served()

    async def test_pipelined_lines_around_the_limit(self):
        # Many max-size lines in one write: every one stays a separate, whole frame.
        lines = [message_line(size, cr) for size in (MAX, MAX - 1, 1 + MAX // 2, MAX) for cr in (False, True)]
        await self.alice.send(b"".join(data for data, _ in lines))
        for _, content in lines:
            await self.bob.expect_message("alice", {"content": content})
        await self.bob.expect_nothing(after=[self.alice])

    async def test_line_of_max_plus_one_is_refused_and_closed(self):
        for index, (mode, cr) in enumerate([(m, False) for m in self.MODES] + [("whole", True), ("halves", True)]):
            with self.subTest(mode=mode, cr=cr):
                name = f"v{index}"
                victim = await self.user(name)
                await victim.join("lobby")
                for member in (self.alice, self.bob):
                    await member.expect_system(f"{name} joined the room")
                data, _ = message_line(MAX + 1, cr)
                await self.send_split(victim, data, mode)
                await victim.expect_error("Message too long")
                await victim.expect_closed()
                await victim.close()
                for member in (self.alice, self.bob):
                    await member.expect_system(f"{name} disconnected")
        await self.alice.say("after")
        await self.bob.expect_message("alice", {"content": "after"})
        await self.bob.expect_nothing(after=[self.alice])
        await self.pair.exchange()
        await self.assert_fresh_client_served()

    async def test_max_plus_one_is_refused_before_the_newline(self):
        victim = await self.user("victim")
        await victim.join("lobby")
        for member in (self.alice, self.bob):
            await member.expect_system("victim joined the room")
        data, _ = message_line(MAX + 1)
        await victim.send(data[:MAX])
        # Still possibly a line of exactly the limit; a barrier would end it.
        await victim.expect_nothing_for(0.3)
        await victim.send(data[MAX:MAX + 1])  # byte MAX+1, no newline yet
        await victim.expect_error("Message too long")
        await victim.expect_closed()
        await victim.close()
        for member in (self.alice, self.bob):
            await member.expect_system("victim disconnected")
        await expect_quiet(self.alice, self.bob)
        await self.pair.exchange()
        await self.assert_fresh_client_served()

    async def test_cr_counts_toward_the_limit(self):
        # MAX bytes of frame, then "\r\n": MAX+1 bytes before the "\n".
        victim = await self.user("victim")
        data, _ = message_line(MAX)
        await victim.send(data[:-1] + b"\r\n")
        await victim.expect_error("Message too long")
        await victim.expect_closed()
        await self.pair.exchange()
        await self.assert_fresh_client_served()


class UnterminatedLine(AdversaryTestCase):
    # A 1 MiB limit, and a long grace so the server keeps discarding while we flood.
    server_flags = ("--max-line-bytes", str(MIB), "--shutdown-grace-ms", "20000")
    FLOOD = 48 * MIB
    CHUNK = 256 * 1024

    async def test_endless_line_memory_stays_flat_and_cpu_idles(self):
        pair = await self.bystanders()
        await pair.exchange()
        fd_baseline = self.probe.fd_count()
        baseline = self.probe.rss_kib()

        peer = await self.raw("flooder")
        reader = asyncio.create_task(peer.read_until_closed(timeout=60))
        sent = 0
        async with RssSampler(self.probe) as sampler:
            while sent < self.FLOOD:
                outcome = await peer.try_send(b"{" * self.CHUNK, timeout=30)
                self.assertEqual(outcome, "sent", f"flood stopped after {sent} bytes")
                sent += self.CHUNK
                if sent == 8 * MIB:
                    await pair.exchange(1)  # others are served during the flood
        # The limit was passed: error, then the server's FIN (it keeps discarding input).
        data, how = await asyncio.wait_for(reader, 30)
        self.assertEqual((data, how), (b'{"type":"error","body":{"content":"Message too long"}}\n', "eof"))
        growth = sampler.peak_kib - baseline
        # 48 MiB went in; the server may hold about one line (1 MiB) of it.
        self.assertLess(growth, 40 * 1024, f"RSS grew by {growth} KiB during a {sent >> 20} MiB endless line")
        self.assert_rss_near(sampler.peak_kib, baseline, "peak during the endless line", slack_kib=12 * 1024)

        # Half-closed and discarding, but idle: no busy loop.
        await peer.wait_sent()
        await self.assert_idle_cpu("while the refused client stays connected")
        self.assertEqual(self.probe.fd_count(), fd_baseline + 1)
        peer.close()
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline), fd_baseline, "connection not released")
        await self.assert_idle_cpu("after the refused client closed")
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_line_just_under_the_limit_waits_idle(self):
        pair = await self.bystanders()
        peer = await self.raw("typist")
        await peer.send(command("username", "typist"))
        await peer.read_lines(1)
        await peer.send(b" " * (MIB - 1))  # one byte short of the limit, no newline
        await self.assert_idle_cpu("while a nearly full line waits for its end")
        await peer.send(b"x")  # byte MIB: still allowed
        await peer.send(b"\n")  # a line of exactly the limit, but not JSON
        frames = await peer.read_lines(1)
        self.assertEqual(frames[0], {"type": "error", "body": {"content": "Invalid JSON format"}})
        await pair.exchange()
        await self.assert_fresh_client_served()


class SplitUtf8(AdversaryTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.pair = await self.bystanders()
        self.alice, self.bob = await self.users("alice", "bob")
        await form_room("lobby", self.alice, self.bob)

    async def test_every_split_inside_a_multibyte_character(self):
        content = "é€😀"  # 2, 3 and 4 bytes
        data = encode(command("message", content))
        start = data.index("é".encode())
        end = start + len(content.encode())
        raw_body = b'{"content":"' + content.encode() + b'"}'
        for cut in range(start + 1, end):
            with self.subTest(cut=cut):
                await self.alice.send(data[:cut])
                await asyncio.sleep(0.03)  # a separate read for each piece
                await self.alice.send(data[cut:])
                await self.bob.expect_message("alice", raw_body=raw_body)
        # A 4-byte character in three reads.
        emoji = data.index("😀".encode())
        for piece in (data[:emoji + 1], data[emoji + 1:emoji + 2], data[emoji + 2:]):
            await self.alice.send(piece)
            await asyncio.sleep(0.03)
        await self.bob.expect_message("alice", raw_body=raw_body)
        await expect_quiet(self.alice, self.bob)
        await self.pair.exchange()
        await self.assert_fresh_client_served()

    async def test_split_username_and_room_name(self):
        client = await self.connect()
        data = encode(command("username", "ünï\U00020000")) + encode(command("create", "ráúmก"))
        for i in range(0, len(data), 2):
            await client.send(data[i:i + 2])
            await asyncio.sleep(0.005)
        await client.expect_welcome("Username set to: ünï\U00020000")
        await client.expect_welcome("Created and joined room: ráúmก")
        await client.expect_system("ünï\U00020000 created the room")
        await self.pair.exchange()

    async def test_split_character_at_the_line_limit(self):
        # Default 64 KiB limit: a line of exactly 65536 bytes whose last
        # character before the closing quote is split between reads.
        empty = encode(command("message", ""))[:-1]
        content = "x" * (65536 - len(empty) - 4) + "😀"
        data = encode(command("message", content))
        self.assertEqual(len(data), 65537)
        cut = data.index("😀".encode()) + 2
        await self.alice.send(data[:cut])
        await asyncio.sleep(0.05)
        await self.alice.send(data[cut:])
        await self.bob.expect_message("alice", {"content": content})
        await self.pair.exchange()


if __name__ == "__main__":
    unittest.main()
