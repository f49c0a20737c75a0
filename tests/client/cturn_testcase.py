"""unittest base class: a fresh server per test, checked for a clean exit afterwards.

With CTURN_TEST_CLUSTER=N (N >= 2) the "server" is a cluster: a real
redis-server and N nodes sharing it, and each client of a test connects to
the next node in turn, so that a test's clients sit on different nodes.
`self.server` is then the first node; `self.nodes` lists them all.
"""

import asyncio
import os
import re
import time
import unittest

from cturn_client import DEFAULT_TIMEOUT, Client, form_room
from redis_process import RedisProcess
from server_process import ServerProcess, print_log

CLUSTER_NODES = int(os.environ.get("CTURN_TEST_CLUSTER", "0") or "0")


class ServerTestCase(unittest.IsolatedAsyncioTestCase):
    """Each test gets its own server started with `server_flags` and `server_env`.

    At teardown the clients are closed and the server must still be running,
    then exit 0 on SIGTERM with no sanitizer report; its log is printed when
    the test failed (or always with CTURN_TEST_SHOW_LOG=1).
    """

    server_flags = ()
    server_env = {}
    server_hold_log = False  # see ServerProcess's hold_log
    cluster_nodes = None  # a cluster of this many nodes, whatever CTURN_TEST_CLUSTER says

    async def asyncSetUp(self):
        self.clients = []
        self.redis = None
        if (self.cluster_nodes or CLUSTER_NODES) >= 2:
            await self.start_cluster(self.cluster_nodes or CLUSTER_NODES)
            return
        self.server = ServerProcess(self.server_flags, env=self.server_env,
                                    hold_log=self.server_hold_log)
        self.nodes = [self.server]
        # Runs even when the set-up fails or skips the test after this point,
        # when asyncTearDown does not.
        self.addCleanup(self.server.kill)
        await asyncio.to_thread(self.server.start)

    async def start_cluster(self, count, flags=()):
        """A redis-server and `count` nodes using it, each serving."""
        self.redis = RedisProcess()
        self.addCleanup(self.redis.cleanup)
        await asyncio.to_thread(self.redis.start)
        self.nodes = []
        for _ in range(count):
            node = self.cluster_node(flags)
            await asyncio.to_thread(node.start)
            await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=")
        self.server = self.nodes[0]

    def cluster_node(self, flags=(), redis_address=None):
        """A node (not started yet) of this test's cluster; `redis_address`
        reaches Redis another way (a proxy)."""
        node = ServerProcess((*self.server_flags, *flags, "--redis",
                              redis_address or self.redis.address),
                             env=self.server_env, hold_log=self.server_hold_log)
        self.addCleanup(node.kill)
        self.nodes.append(node)
        return node

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
            for node in self.nodes:
                node.assert_alive()
            for node in self.nodes:
                await asyncio.to_thread(node.stop)
        finally:
            for node in self.nodes:
                node.kill()
        if failed or os.environ.get("CTURN_TEST_SHOW_LOG"):
            for node in self.nodes:
                print_log(node)

    async def connect(self, label=None, node=None, **kwargs):
        """A client of `node`: by default the server, or in a cluster the next node in turn."""
        if node is None:
            node = self.nodes[len(self.clients) % len(self.nodes)]
        log_mark = len(node.lines)
        client = await Client.connect(node.host, node.port, label=label, **kwargs)
        client.node = node
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

    async def lobby_across_nodes(self):
        """alice on the first node and bob on the second, both in room lobby."""
        alice = await self.user("alice", node=self.nodes[0])
        bob = await self.user("bob", node=self.nodes[1])
        await form_room("lobby", alice, bob)
        return alice, bob

    async def disconnect_handled(self, *clients, timeout=DEFAULT_TIMEOUT):
        """Wait until the server has handled the disconnect of each of `clients`
        (made by connect(), or AdversaryTestCase.raw()): the hub logs
        `disconnect` after it has queued every frame the disconnect causes, so
        this is the barrier of a client that can no longer send one. (A client
        that only registered and quit logs at debug, like a health check: the
        servers here log at debug unless a test picks another level.)"""
        for client in clients:
            node = getattr(client, "node", self.server)
            connected = await asyncio.to_thread(
                node.wait_for_log, rf"\bconnect id=\d+ peer=\S+:{client.local_port}(\s|$)",
                timeout, client.log_mark)
            connection_id = re.search(r"\bid=(\d+)", connected).group(1)
            await asyncio.to_thread(node.wait_for_log, rf"\bdisconnect id={connection_id}\b",
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
