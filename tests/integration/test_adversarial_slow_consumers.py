"""Clients that never read: a small receive buffer and not one recv() call.

- A member of a flooded room is closed as a slow consumer once its pending
  output passes --max-output-bytes; the other members receive every message,
  in order, and see its disconnect at the same place; server memory returns
  near its baseline.
- A client that provokes error replies without reading them is cut off the
  same way instead of growing the server's memory.
"""

import asyncio
import time
import unittest

from adversary import MIB, AdversaryTestCase, RssSampler
from cturn_client import Frame, command, expect_quiet, form_room

OUTPUT_LIMIT = MIB


class NeverReadingMember(AdversaryTestCase):
    server_flags = ("--max-output-bytes", str(OUTPUT_LIMIT), "--rate-limit", "0", "--rate-limit-bytes", "0")
    BATCH = 8
    SIZE = 8000
    MAX_SENT = 64 * MIB  # bound: far beyond what any buffer in the path can hold

    async def test_flooded_room_drops_the_member_that_never_reads(self):
        pair = await self.bystanders()
        alice, bob, dave = await self.users("alice", "bob", "dave")
        await form_room("lobby", alice, bob, dave)
        carol = await self.raw("carol", rcvbuf=4096)
        await carol.send(command("username", "carol"), command("join", "lobby"))
        for member in (alice, bob, dave):
            await member.expect_system("carol joined the room")
        # From here on carol never calls recv().
        fd_baseline = self.probe.fd_count()
        baseline = self.probe.rss_kib()

        sent = 0
        gone_at = {}  # reader -> index of the first message after "carol disconnected"
        started = time.monotonic()
        async with RssSampler(self.probe) as sampler:
            while len(gone_at) < 2 or sent < max(gone_at.values()) + 10 * self.BATCH:
                self.assertLess(sent * self.SIZE, self.MAX_SENT, "carol was never dropped")
                self.assertLess(time.monotonic() - started, 60, "flood too slow")
                await alice.send(*(command("message", f"{i}:" + "m" * self.SIZE)
                                   for i in range(sent, sent + self.BATCH)))
                for reader in (bob, dave):
                    for i in range(sent, sent + self.BATCH):
                        frame = await reader.recv()
                        if frame.type == "system":
                            self.assertEqual(frame.content, "carol disconnected", f"[{reader.label}] {frame!r}")
                            self.assertNotIn(reader, gone_at, f"[{reader.label}] second disconnect notice")
                            gone_at[reader] = i
                            frame = await reader.recv()
                        self.assertEqual((frame.type, frame.sender), ("message", "alice"), f"[{reader.label}] {frame!r}")
                        self.assertEqual(frame.content.split(":")[0], str(i),
                                         f"[{reader.label}] missed or reordered a message")
                sent += self.BATCH
                if sent % (40 * self.BATCH) == 0:
                    await pair.exchange(1)
        self.assertEqual(gone_at[bob], gone_at[dave], "the room saw carol leave at different places")
        await alice.expect_system("carol disconnected")
        await expect_quiet(alice, bob, dave)
        self.server.wait_for_log(r"\bslow-consumer\b")

        # What reached carol is an in-order prefix of what the room saw, then the close.
        data, how = await carol.read_until_closed(timeout=10)
        self.assertIn(how, ("eof", "reset"))
        lines = data.split(b"\n")[:-1]  # the last piece is partial (or empty)
        frames = [Frame(line) for line in lines]
        self.assertEqual([f.content for f in frames[:2]], ["Username set to: carol", "Joined room: lobby"])
        for index, frame in enumerate(frames[2:]):
            self.assertEqual((frame.sender, frame.content.split(":")[0]), ("alice", str(index)))
        self.assertLess(len(frames) - 2, sent)

        self.assertEqual(await self.probe.wait_for_fds(fd_baseline - 1), fd_baseline - 1)
        peak_growth = sampler.peak_kib - baseline
        self.note(f"flood of {sent} x {self.SIZE} B, carol dropped after {gone_at[bob]}; peak growth {peak_growth} KiB")
        self.assert_rss_near(sampler.peak_kib, baseline, "peak during the flood", slack_kib=16 * 1024)
        after = await self.probe.settled_rss_kib(baseline + self.rss_slack_kib)
        self.assert_rss_near(after, baseline, "after the slow consumer was dropped")
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_several_never_readers_in_one_room(self):
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        stalled = []
        for index in range(4):
            peer = await self.raw(f"stall{index}", rcvbuf=4096)
            await peer.send(command("username", f"stall{index}"), command("join", "lobby"))
            for member in (alice, bob):
                await member.expect_system(f"stall{index} joined the room")
            stalled.append(peer)
        fd_baseline = self.probe.fd_count()
        gone = set()
        sent = 0
        while len(gone) < len(stalled):
            self.assertLess(sent * self.SIZE, self.MAX_SENT, f"dropped only {sorted(gone)}")
            await alice.send(*(command("message", f"{i}:" + "m" * self.SIZE) for i in range(sent, sent + self.BATCH)))
            i = sent
            while i < sent + self.BATCH:
                frame = await bob.recv()
                if frame.type == "system":
                    self.assertRegex(frame.content, r"^stall\d disconnected$")
                    gone.add(frame.content.split()[0])
                    continue
                self.assertEqual(frame.content.split(":")[0], str(i), "bob missed or reordered a message")
                i += 1
            sent += self.BATCH
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline - len(stalled)), fd_baseline - len(stalled))
        for peer in stalled:
            _, how = await peer.read_until_closed(timeout=10)
            self.assertIn(how, ("eof", "reset"))
        await self.assert_fresh_client_served()


class NeverReadingErrorProvoker(AdversaryTestCase):
    server_flags = ("--max-output-bytes", "262144", "--rate-limit", "0", "--rate-limit-bytes", "0")
    MAX_INPUT = 16 * MIB  # ~470 MB of error replies if the server never cut it off

    async def provoke_until_closed(self, peer, line):
        chunk = line * (65536 // len(line))
        sent = 0
        while sent < self.MAX_INPUT:
            outcome = await peer.try_send(chunk, timeout=10)
            if outcome == "closed":
                return sent
            self.assertEqual(outcome, "sent", f"server stopped reading after {sent} bytes but did not close")
            sent += len(chunk)
        self.fail(f"still connected after {sent} bytes of error-provoking input")

    async def run_case(self, register):
        pair = await self.bystanders()
        alice = await self.user("alice")
        await alice.create("lobby")
        fd_baseline = self.probe.fd_count()  # without mallory
        mallory = await self.raw("mallory", rcvbuf=4096)
        if register:
            await mallory.send(command("username", "mallory"), command("join", "lobby"))
            await alice.expect_system("mallory joined the room")
        baseline = self.probe.rss_kib()
        async with RssSampler(self.probe) as sampler:
            sent = await self.provoke_until_closed(mallory, b"x\n" if register else b'{"type":"leave","body":{}}\n')
        self.note(f"cut off after {sent} bytes of input")
        self.server.wait_for_log(r"\bslow-consumer\b")
        if register:
            await alice.expect_system("mallory disconnected")
        await self.disconnect_handled(mallory)
        await alice.expect_nothing()
        self.assertEqual(await self.probe.wait_for_fds(fd_baseline), fd_baseline)
        self.assert_rss_near(sampler.peak_kib, baseline, "peak while errors piled up", slack_kib=16 * 1024)
        after = await self.probe.settled_rss_kib(baseline + self.rss_slack_kib)
        self.assert_rss_near(after, baseline, "after the error provoker was dropped")
        await pair.exchange()
        await self.assert_fresh_client_served()

    async def test_registered_member_provoking_errors(self):
        await self.run_case(register=True)

    async def test_unregistered_client_provoking_errors(self):
        await self.run_case(register=False)


class NeverReadingErrorProvokerDefaultLimit(AdversaryTestCase):
    """The default 4 MiB output limit. Error frames are small, so the limit is
    tens of thousands of frames; the memory they take must stay bounded and be
    reused, not accumulate from one stalled client to the next. One server
    thread: one malloc arena, so reuse is measurable."""
    server_flags = ("--rate-limit", "0", "--rate-limit-bytes", "0")
    server_threads = 1
    MAX_INPUT = 64 * MIB

    provoke_until_closed = NeverReadingErrorProvoker.provoke_until_closed

    async def test_repeated_error_provokers(self):
        pair = await self.bystanders()
        fd_baseline = self.probe.fd_count()
        baseline = self.probe.rss_kib()
        afters = []
        for round_ in range(3):
            mallory = await self.raw(f"mallory{round_}", rcvbuf=4096)
            async with RssSampler(self.probe) as sampler:
                await self.provoke_until_closed(mallory, b'{"type":"leave","body":{}}\n')
            self.assertEqual(await self.probe.wait_for_fds(fd_baseline), fd_baseline)
            # 4 MiB of pending frames, with their per-frame overhead.
            self.assert_rss_near(sampler.peak_kib, baseline, f"peak, round {round_}", slack_kib=24 * 1024)
            await asyncio.sleep(0.2)
            afters.append(self.probe.rss_kib())
            self.note(f"round {round_}: peak {sampler.peak_kib - baseline} KiB, after {afters[-1] - baseline} KiB over the baseline")
            await pair.exchange(1)
        self.assertEqual(len([line for line in self.server.lines if " slow-consumer " in line]), 3)
        # The memory of one stalled client is reused by the next one.
        self.assert_rss_near(afters[-1], afters[0], "after the third provoker, against the first", slack_kib=4 * 1024)
        await self.assert_fresh_client_served()


if __name__ == "__main__":
    unittest.main()
