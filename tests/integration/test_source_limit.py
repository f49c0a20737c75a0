"""Per-source connection cap (--max-connections-per-source, default 64).

One address that opens connections and never registers must not take every
slot of --max-connections: the connection over its cap hears `Too many
connections from your address` and is closed, while other addresses (all of
127.0.0.0/8 is loopback, so 127.0.0.2 is another source) are still served,
and a slot comes back when one of its connections closes.
"""

import asyncio
import re
import time
import unittest
import urllib.request

from cturn_client import DEFAULT_TIMEOUT, command, form_room
from cturn_testcase import ServerTestCase

TOO_MANY = "Too many connections from your address"
DEFAULT_CAP = 64


class DefaultCap(ServerTestCase):
    server_flags = ("--metrics", "127.0.0.1:0", "--username-timeout-ms", "0")

    async def fill(self, source="127.0.0.1", count=DEFAULT_CAP):
        """`count` connections from `source` that never register, each proved accepted."""
        held = []
        for _ in range(count):
            client = await self.connect(source=source)
            held.append(client)
        # Accepted, not refused: each answers as a session does.
        await asyncio.gather(*(c.send(b"junk\n") for c in held))
        await asyncio.gather(*(c.expect_error("Invalid JSON format") for c in held))
        return held

    async def expect_refused(self, source="127.0.0.1"):
        extra = await self.connect(source=source)
        await extra.expect_error(TOO_MANY)
        await extra.expect_closed()
        self.clients.remove(extra)

    def scrape(self):
        line = self.server.wait_for_log(r"\bmetrics-listening ")
        port = re.search(r"\bport=(\d+)", line).group(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                    timeout=DEFAULT_TIMEOUT) as response:
            return response.read().decode()

    async def test_the_connection_over_the_cap_is_refused_and_others_still_connect(self):
        held = await self.fill()
        await self.expect_refused()
        self.server.wait_for_log(r"\bsource-limit source=127\.0\.0\.1 limit=64\b")
        # Another address is a source of its own.
        alice = await self.user("alice", source="127.0.0.2")
        bob = await self.user("bob", source="127.0.0.2")
        await form_room("lobby", alice, bob)
        # The held connections were not disturbed.
        await held[0].register("carol")
        metrics = await asyncio.to_thread(self.scrape)
        self.assertIn('cturn_rejected_connections_total{reason="source_limit"} 1\n', metrics)
        self.assertIn('cturn_errors_total{error="too_many_from_source"} 1\n', metrics)

    async def test_a_slot_comes_back_when_a_connection_closes(self):
        held = await self.fill()
        await self.expect_refused()
        await held[0].close()
        self.clients.remove(held[0])
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while True:  # the server may not have handled the close yet
            client = await self.connect(source="127.0.0.1")
            await client.send(command("username", "late"))
            reply = await client.recv()
            if reply.type != "error" or reply.content != TOO_MANY:
                break
            await client.expect_closed()
            self.clients.remove(client)
            self.assertLess(time.monotonic(), deadline, "slot never given back")
            await asyncio.sleep(0.05)
        self.assertEqual(reply, {"type": "welcome", "body": {"content": "Username set to: late"}})
        # Full again.
        await self.expect_refused()


class CapOff(ServerTestCase):
    server_flags = ("--max-connections-per-source", "0", "--username-timeout-ms", "0")

    async def test_zero_switches_the_cap_off(self):
        held = [await self.connect() for _ in range(DEFAULT_CAP + 6)]
        await asyncio.gather(*(c.send(b"junk\n") for c in held))
        await asyncio.gather(*(c.expect_error("Invalid JSON format") for c in held))


class SmallCap(ServerTestCase):
    server_flags = ("--max-connections-per-source", "2", "--max-connections", "3")

    async def test_server_full_comes_before_the_source_cap(self):
        await self.user("alice")
        await self.user("bob")
        await self.expect_refused_with(TOO_MANY)
        await self.user("carol", source="127.0.0.2")
        await self.expect_refused_with("Server full", source="127.0.0.3")
        await self.expect_refused_with("Server full")

    async def expect_refused_with(self, text, source="127.0.0.1"):
        extra = await self.connect(source=source)
        await extra.expect_error(text)
        await extra.expect_closed()
        self.clients.remove(extra)


if __name__ == "__main__":
    unittest.main()
