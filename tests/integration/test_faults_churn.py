"""Connection churn: many connect / register / join / disconnect cycles from
concurrent workers, ended in different ways (orderly close, reset, close
before reading the replies, reset before reading them).

Afterwards the server's descriptor count is back to its baseline exactly and
its RSS within 8 MiB of it (plain builds only: sanitizer allocators keep freed
memory). A member of the joined room saw every completed cycle as exactly one
"joined" followed by one "disconnected", and nothing else.

CTURN_TEST_CHURN_CYCLES sets the number of cycles (default 10000),
CTURN_TEST_CHURN_WORKERS the concurrency (default 16).
"""

import asyncio
import os
import re
import time
import unittest

from adversary import DEFAULT_TIMEOUT, AdversaryTestCase, RawPeer, gather_all
from cturn_client import Frame, command, encode

CYCLES = int(os.environ.get("CTURN_TEST_CHURN_CYCLES", "10000"))
WORKERS = int(os.environ.get("CTURN_TEST_CHURN_WORKERS", "16"))
ROOM = "hall"
NOTICE = re.compile(r"^(u\d+) (joined the room|disconnected)$")
COMPLETE = ["joined the room", "pubkey", "disconnected"]  # what the anchor sees of one cycle


class Churn(AdversaryTestCase):
    async def test_connect_register_join_disconnect_cycles(self):
        pair = await self.bystanders()
        anchor = await self.user("anchor")
        await anchor.create(ROOM)
        fd_baseline = self.probe.fd_count()
        rss_baseline = self.probe.rss_kib()

        events = {}  # name -> list of notices, in arrival order
        unexpected = []

        async def watch():
            while True:
                line = await anchor.reader.readline()
                if not line:
                    unexpected.append(b"<EOF>")
                    return
                frame = Frame(line.rstrip(b"\n"))
                if frame.type == "pubkey" and frame.content == f"key-{frame.sender}":
                    events.setdefault(frame.sender, []).append("pubkey")
                    continue
                match = NOTICE.match(frame.content or "") if frame.type == "system" else None
                if match is None:
                    unexpected.append(frame)
                    continue
                events.setdefault(match.group(1), []).append(match.group(2))

        must_complete = set()  # cycles that read both replies: the join certainly happened
        counts = {"close": 0, "reset": 0, "close-unread": 0, "reset-unread": 0}
        join_frames = lambda name: encode(command("username", name, pubkey=f"key-{name}")) + encode(command("join", ROOM))
        welcome = lambda name: re.compile(
            rb'{"type":"welcome","body":{"content":"Username set to: %s","resume":"[0-9a-f]{32}"}}\n'
            rb'{"type":"welcome","body":{"content":"Joined room: %s"}}\n'
            % (re.escape(name.encode()), re.escape(ROOM.encode())))

        async def cycle(index):
            name = f"u{index}"
            mode = ("reset", "close-unread", "reset-unread")[index % 10] if index % 10 < 3 else "close"
            counts[mode] += 1
            peer = await RawPeer.connect(self.server.host, self.server.port, label=name)
            try:
                await peer.send(join_frames(name))
                if mode in ("close", "reset"):
                    expected = welcome(name)
                    frames = await peer.read_lines(2)
                    got = b"".join(f.raw + b"\n" for f in frames)
                    self.assertRegex(got, expected, f"[{name}]")
                    must_complete.add(name)
                if mode.startswith("reset"):
                    peer.reset()
            finally:
                peer.close()

        async def worker(first):
            for index in range(first, CYCLES, WORKERS):
                await cycle(index)

        watcher = asyncio.create_task(watch())
        started = time.monotonic()
        try:
            await gather_all(*(worker(w) for w in range(WORKERS)))
            elapsed = time.monotonic() - started
            self.note(f"{CYCLES} cycles with {WORKERS} workers in {elapsed:.1f} s {counts}")
            # Wait for the last disconnect notices.
            deadline = time.monotonic() + DEFAULT_TIMEOUT
            while any(events.get(name, []) != COMPLETE for name in must_complete):
                if time.monotonic() > deadline or watcher.done():
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

        self.assertEqual(unexpected, [], "the anchor received frames other than joins, keys and disconnects")
        incomplete = sorted(n for n in must_complete if events.get(n) != COMPLETE)
        self.assertEqual(incomplete[:20], [], f"{len(incomplete)} completed cycles not seen as joined, key, disconnected, "
                         f"e.g. {[(n, events.get(n)) for n in incomplete[:5]]}")
        odd = {n: e for n, e in events.items() if e != COMPLETE}
        self.assertEqual(odd, {}, "cycles seen as something else than joined, key, disconnected")
        self.assertLessEqual(set(events), {f"u{i}" for i in range(CYCLES)})

        fds = await self.probe.wait_for_fds(fd_baseline, timeout=DEFAULT_TIMEOUT, at_most=False)
        self.assertEqual(fds, fd_baseline, "descriptors leaked by the churn")
        rss = await self.probe.settled_rss_kib(rss_baseline + self.rss_slack_kib)
        self.assert_rss_near(rss, rss_baseline, f"after {CYCLES} cycles")
        await self.assert_idle_cpu("after the churn")

        # The room still works, and its member list is right: a new member's
        # arrival reaches the anchor, and nobody else is left in the room.
        probe = await self.user("late", pubkey="key-late")
        await probe.join(ROOM)
        await probe.expect_nothing()  # no pubkey frame: no churn client (all had keys) is left in there
        await anchor.expect_system("late joined the room")
        await anchor.expect("pubkey", "key-late", sender="late")
        await probe.say("roll")
        await anchor.expect_message("late", {"content": "roll"})
        await pair.exchange()
        await pair.assert_quiet()
        await self.assert_fresh_client_served()


if __name__ == "__main__":
    unittest.main()
