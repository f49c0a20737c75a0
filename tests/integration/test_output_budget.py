"""The server-wide output budget (--max-buffered-bytes).

- Several clients that stop reading, each far below its own cap
  (--max-output-bytes), together hold more than the budget: the one holding
  the most is disconnected (`over_output_budget`), the smaller one and the
  readers keep everything.
- A broadcast frame queued for many clients counts once: the same bytes
  queued for five stalled members, more than the budget if each queue
  counted, shed no one, and the gauge shows about one copy.
"""

import asyncio
import re
import unittest
import urllib.request

from adversary import MIB, AdversaryTestCase
from cturn_client import DEFAULT_TIMEOUT, command, form_room
from test_metrics import parse

BUDGET = 6 * MIB
PER_CLIENT = 64 * MIB  # far above everything the tests queue: only the budget can act
SIZE = 8000
BATCH = 16


class OutputBudget(AdversaryTestCase):
    server_flags = ("--max-buffered-bytes", str(BUDGET), "--max-output-bytes", str(PER_CLIENT),
                    "--metrics", "127.0.0.1:0", "--rate-limit", "0", "--rate-limit-bytes", "0")

    async def asyncSetUp(self):
        await super().asyncSetUp()
        line = await asyncio.to_thread(self.server.wait_for_log, r"\bmetrics-listening ")
        self.metrics_port = int(re.search(r"\bport=(\d+)", line).group(1))

    async def samples(self):
        def get():
            url = f"http://127.0.0.1:{self.metrics_port}/metrics"
            with urllib.request.urlopen(url, timeout=DEFAULT_TIMEOUT) as response:
                return response.read().decode()
        return parse(await asyncio.to_thread(get))

    async def stalled_member(self, name, room, *members):
        peer = await self.raw(name, rcvbuf=4096)
        await peer.send(command("username", name), command("join", room))
        for member in members:
            await member.expect_system(f"{name} joined the room")
        return peer  # never reads from here on

    async def send_directed(self, sender, to, count, start=0):
        for first in range(start, start + count, BATCH):
            await sender.send(*(command("message", f"{i}:" + "m" * SIZE, to=to)
                                for i in range(first, min(first + BATCH, start + count))))

    async def test_the_biggest_consumer_goes_first(self):
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        small = await self.stalled_member("small", "lobby", alice, bob)
        big = await self.stalled_member("big", "lobby", alice, bob)

        # About 2 MiB for small: under the budget, whatever the kernel keeps.
        await self.send_directed(alice, "small", 2 * MIB // SIZE)
        sent = 0
        gone = None
        while gone is None:
            self.assertLess(sent * SIZE, 48 * MIB, "big was never shed")
            await self.send_directed(alice, "big", BATCH, sent)
            sent += BATCH
            # bob reads a directed message of his own after each batch, so
            # that he is a reader the budget must leave alone.
            await alice.send(command("message", f"to-bob:{sent}", to="bob"))
            while True:
                frame = await bob.recv()
                if frame.type == "system":
                    self.assertEqual(frame.content, "big disconnected")
                    gone = sent
                    continue
                self.assertEqual((frame.sender, frame.content), ("alice", f"to-bob:{sent}"))
                break
        await alice.expect_system("big disconnected")
        self.server.wait_for_log(r"\bshed\b.*\bid=")
        self.assertFalse(any(re.search(r"\bslow-consumer\b", line) for line in self.server.lines),
                         "the per-client cap acted, not the budget")
        counted = await self.samples()
        self.assertEqual(counted['cturn_disconnects_total{reason="over_output_budget"}'], 1)
        self.assertEqual(counted["cturn_output_budget_bytes"], BUDGET)
        # small held less, and is still a member: it gets what it was sent.
        await alice.send(command("message", "still there?", to="small"))
        await alice.send(command("message", "after", to="bob"))
        self.assertEqual((await bob.recv()).content, "after")
        directed = []
        while True:
            [frame] = await small.read_lines(1, timeout=30)
            if frame.type == "message":
                directed.append(frame.content.split(":")[0])
            if frame.content == "still there?":
                break
        self.assertEqual(directed, [str(i) for i in range(2 * MIB // SIZE)] + ["still there?"])
        self.note(f"big shed after {gone} messages of {SIZE} B")

    async def test_a_shared_frame_counts_once(self):
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        stalled = [await self.stalled_member(f"stall{i}", "lobby", alice, bob) for i in range(5)]
        # 4 MiB of broadcasts: each of five queues holds most of it, 5 times
        # the budget if every queue counted its own copy.
        count = 4 * MIB // SIZE
        for first in range(0, count, BATCH):
            await alice.send(*(command("message", f"{i}:" + "b" * SIZE)
                               for i in range(first, min(first + BATCH, count))))
            for i in range(first, min(first + BATCH, count)):
                frame = await bob.recv()
                self.assertEqual((frame.type, frame.content.split(":")[0]), ("message", str(i)))
        counted = await self.samples()
        held = counted["cturn_buffered_output_bytes"]
        self.note(f"held {held / MIB:.2f} MiB for five stalled members")
        self.assertGreater(held, 1 * MIB, "the stalled members' frames are not counted")
        self.assertLess(held, BUDGET, "a shared frame was counted more than once")
        self.assertEqual(counted['cturn_disconnects_total{reason="over_output_budget"}'], 0)
        await alice.send(command("message", "done"))
        self.assertEqual((await bob.recv()).content, "done")
        for peer in stalled:
            peer.close()


if __name__ == "__main__":
    unittest.main()
