"""Logging never blocks serving. With the server's stderr a pipe that is held
open but never read (a stalled log collector, a paused pager), thousands of
connections come and go, and two clients still chat; the lines that did not
fit are counted in a `log-dropped count=N` line once the log is read again."""

import asyncio
import re
import unittest

from cturn_client import DEFAULT_TIMEOUT, TIMEOUT_SCALE, Client, command, form_room
from cturn_testcase import ServerTestCase

# About 270 bytes of log each (connect, username, disconnect): far more than
# a pipe (64 KiB) and the server's own log queue hold together.
CONNECTIONS = 3000
PARALLEL = 32
DROPPED = re.compile(r"\blog-dropped count=(\d+)")


class UnreadLog(ServerTestCase):
    server_flags = ("--rate-limit", "0", "--rate-limit-bytes", "0")
    server_hold_log = True

    async def churn(self):
        """CONNECTIONS clients each register and leave; returns how many got through."""
        done = 0

        async def worker(first):
            nonlocal done
            for i in range(first, CONNECTIONS, PARALLEL):
                client = await Client.connect(self.server.host, self.server.port, label=f"c{i}")
                try:
                    await client.register(f"user{i}")
                finally:
                    await client.close()
                done += 1

        try:
            await asyncio.wait_for(asyncio.gather(*(worker(k) for k in range(PARALLEL))),
                                   120 * TIMEOUT_SCALE)
        except (AssertionError, asyncio.TimeoutError, ConnectionError) as exc:
            self.fail(f"the server stopped answering after {done} of {CONNECTIONS} "
                      f"connections while nobody read its log: {exc!r}")
        return done

    async def test_unread_log_blocks_nobody(self):
        self.assertEqual(await self.churn(), CONNECTIONS)
        alice, bob = await self.users("alice", "bob")
        await form_room("lobby", alice, bob)
        await alice.send(command("message", "still here"))
        await bob.expect_message("alice", {"content": "still here"})

        self.server.release_log()
        await asyncio.to_thread(self.server.stop)
        dropped = [int(m.group(1)) for m in map(DROPPED.search, self.server.lines) if m]
        self.assertTrue(dropped, "no log-dropped line once the log was read again\n"
                        + self.server.log(20))
        self.assertGreater(sum(dropped), 0)
        # The server's own last lines made it out, after the dropped ones.
        self.server.wait_for_log(r"\bstopped\b", timeout=DEFAULT_TIMEOUT)


if __name__ == "__main__":
    unittest.main()
