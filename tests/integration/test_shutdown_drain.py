"""Shutdown waits for every connection, not only for the registered clients:
a connection accepted during shutdown is turned away with `Server shutting
down`, and the process does not exit before that connection is closed (or
the grace period ends)."""

import asyncio
import os
import re
import signal
import time
import unittest

from adversary import DEFAULT_TIMEOUT, TIMEOUT_SCALE, AdversaryTestCase, server_pid
from cturn_client import Frame

GRACE = 30.0
HOLD = 2.0 * TIMEOUT_SCALE  # how long the turned-away clients keep their end open
TURNED_AWAY = re.compile(r"\bturned-away id=(\d+)")


class DrainCountsConnections(AdversaryTestCase):
    # With alice the only slot is taken, so a late connection that the accept
    # loop still takes before the signal is turned away as `Server full`;
    # only the shutdown accepts past the cap. Of those, the hub registers the
    # ones that reach it before it begins shutting down and turns away the
    # rest (with one I/O thread, at least the accept that completes in the
    # same turn as the signal, in every run seen).
    server_flags = ("--shutdown-grace-ms", str(int(GRACE * 1000)), "--max-connections", "1")
    server_threads = 1

    async def test_waits_for_connections_turned_away_during_shutdown(self):
        alice = await self.user("alice")
        # Stopped, the server cannot accept: the late connections wait in the
        # listen backlog.
        pid = server_pid(self.server)
        os.kill(pid, signal.SIGSTOP)
        try:
            late = [await self.connect(f"late{i}") for i in range(6)]
            self.server.send_signal(signal.SIGTERM)
        finally:
            os.kill(pid, signal.SIGCONT)

        exited_at = None

        def wait_for_exit():
            nonlocal exited_at
            code = self.server.wait(GRACE + DEFAULT_TIMEOUT)
            exited_at = time.monotonic()
            return code

        stop = asyncio.create_task(asyncio.to_thread(wait_for_exit))
        for client in late:
            first = await client.recv()
            if first.type == "error":
                self.assertEqual(first.content, "Server full")
            else:
                self.assertEqual((first.type, first.content), ("system", "Server shutting down"))
        # Which connections the hub never knew: the server logs them as turned
        # away, and names each connection's peer port when it connects. (The
        # log is written by a thread of its own: wait for the line.)
        await asyncio.to_thread(self.server.wait_for_log, TURNED_AWAY.pattern)
        ports = {}
        for line in self.server.lines:
            if match := re.search(r"\bconnect id=(\d+) peer=\S+:(\d+)", line):
                ports[match.group(1)] = int(match.group(2))
        away_ports = {ports[m.group(1)] for m in map(TURNED_AWAY.search, self.server.lines) if m}
        turned_away = [c for c in late if c.writer.get_extra_info("sockname")[1] in away_ports]
        self.assertTrue(turned_away, "no connection was turned away by the hub\n" + self.server.log())
        # Everyone else goes now; only the turned-away connections stay open.
        for client in late:
            if client not in turned_away:
                await client.expect_closed()
        await alice.expect_system("Server shutting down")
        await alice.expect_closed()
        await asyncio.sleep(HOLD)
        closed_at = time.monotonic()
        self.assertIsNone(exited_at, "the server exited while connections were still open")
        for client in turned_away:
            await client.expect_closed()
        self.assertEqual(await stop, 0)
        self.assertGreaterEqual(exited_at, closed_at)
        self.assertLess(exited_at - closed_at, DEFAULT_TIMEOUT,
                        "the server did not exit once the last connection closed")
        self.server.wait_for_log(r"shutdown-complete why=\"all clients closed\"")


if __name__ == "__main__":
    unittest.main()
