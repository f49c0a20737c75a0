"""unittest base class: a fresh server per test, checked for a clean exit afterwards."""

import asyncio
import os
import re
import time
import unittest

from cturn_client import DEFAULT_TIMEOUT, Client
from server_process import ServerProcess, print_log


class ServerTestCase(unittest.IsolatedAsyncioTestCase):
    """Each test gets its own server started with `server_flags` and `server_env`.

    At teardown the clients are closed and the server must still be running,
    then exit 0 on SIGTERM with no sanitizer report; its log is printed when
    the test failed (or always with CTURN_TEST_SHOW_LOG=1).
    """

    server_flags = ()
    server_env = {}
    server_hold_log = False  # see ServerProcess's hold_log

    async def asyncSetUp(self):
        self.clients = []
        self.server = ServerProcess(self.server_flags, env=self.server_env,
                                    hold_log=self.server_hold_log)
        # Runs even when the set-up fails or skips the test after this point,
        # when asyncTearDown does not.
        self.addCleanup(self.server.kill)
        await asyncio.to_thread(self.server.start)

    def has_failed(self):
        """Whether this test has failed so far. (`_outcome.success` is reset to
        True while tearDown runs, at least on Python 3.11; the result lists
        are reliable.)"""
        result = getattr(getattr(self, "_outcome", None), "result", None)
        if result is None:
            return False
        return any(getattr(test, "test_case", test) is self
                   for test, _ in list(result.failures) + list(result.errors))

    async def asyncTearDown(self):
        failed = self.has_failed()
        try:
            for client in self.clients:
                if failed:
                    client.abort()
                else:
                    await client.close()
            # Both raise with the server log in their message.
            self.server.assert_alive()
            await asyncio.to_thread(self.server.stop)
        finally:
            self.server.kill()
        if failed or os.environ.get("CTURN_TEST_SHOW_LOG"):
            print_log(self.server)

    async def connect(self, label=None, **kwargs):
        log_mark = len(self.server.lines)
        client = await Client.connect(self.server.host, self.server.port, label=label, **kwargs)
        client.log_mark = log_mark  # its `connect` log line comes after this one
        self.clients.append(client)
        return client

    async def user(self, name, pubkey=None, **kwargs):
        """A connected client with its username set."""
        client = await self.connect(label=name, **kwargs)
        await client.register(name, pubkey)
        return client

    async def users(self, *names):
        return [await self.user(name) for name in names]

    async def disconnect_handled(self, *clients, timeout=DEFAULT_TIMEOUT):
        """Wait until the server has handled the disconnect of each of `clients`
        (made by connect(), or AdversaryTestCase.raw()): the hub logs
        `disconnect` after it has queued every frame the disconnect causes, so
        this is the barrier of a client that can no longer send one."""
        for client in clients:
            connected = await asyncio.to_thread(
                self.server.wait_for_log, rf"\bconnect id=\d+ peer=\S+:{client.local_port}(\s|$)",
                timeout, client.log_mark)
            connection_id = re.search(r"\bid=(\d+)", connected).group(1)
            await asyncio.to_thread(self.server.wait_for_log, rf"\bdisconnect id={connection_id}\b",
                                    timeout, client.log_mark)

    async def retry_while(self, client, frame, busy_error, timeout=DEFAULT_TIMEOUT):
        """Send `frame` until the reply is not the error `busy_error` and return
        that reply. For effects of a disconnect (a name or room being freed),
        which the server may process after the client's socket is gone."""
        deadline = time.monotonic() + timeout
        while True:
            await client.send(frame)
            reply = await client.recv()
            if reply != {"type": "error", "body": {"content": busy_error}}:
                return reply
            self.assertLess(time.monotonic(), deadline, f"still {busy_error!r} after {timeout} s")
            await asyncio.sleep(0.05)
