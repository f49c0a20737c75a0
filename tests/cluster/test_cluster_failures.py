"""A cluster under failure: a node killed, Redis killed and brought back,
Redis stalled, and one order per room across nodes. Real processes on
loopback: a redis-server and three nodes (PROTOCOL.md, Cluster)."""

import asyncio
import re
import signal
import time
import unittest
import urllib.error
import urllib.request

from cturn_client import DEFAULT_TIMEOUT, TIMEOUT_SCALE, Client, command, form_room
from cturn_testcase import ServerTestCase
from redis_process import RedisProcess

# PROTOCOL.md's bound for both a dead node and a lost Redis.
BOUND = 3.0
SLACK = 0.5 * TIMEOUT_SCALE  # the test's own scheduling, sanitizer builds


class ClusterFailures(ServerTestCase):
    cluster_nodes = 3
    # Without a resume window: a stopped node's names are given up at once
    # (test_cluster_resume_window.py tries the window).
    server_flags = ("--metrics", "127.0.0.1:0", "--resume-window", "0")

    async def on(self, index, name):
        """A client registered as `name` on node `index`."""
        return await self.user(name, node=self.nodes[index])

    async def kill_node(self, index):
        node = self.nodes.pop(index)
        node.kill()  # SIGKILL: no goodbye to Redis or to anyone
        return time.monotonic()

    async def expect_unavailable(self, client, since):
        await client.expect_system("Server unavailable", timeout=BOUND + SLACK)
        await client.expect_closed(timeout=BOUND + SLACK)
        self.assertLess(time.monotonic() - since, BOUND + SLACK)

    async def wait_until_serving(self, node, mark):
        await asyncio.to_thread(node.wait_for_log, r"\bcluster-ready node=", 10 * TIMEOUT_SCALE,
                                mark)

    async def healthz(self, node):
        """(status, body) of the node's /healthz."""
        line = await asyncio.to_thread(node.wait_for_log, r"\bmetrics-listening ")
        port = re.search(r"port=(\d+)", line).group(1)
        url = f"http://127.0.0.1:{port}/healthz"

        def get():
            try:
                with urllib.request.urlopen(url, timeout=DEFAULT_TIMEOUT) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        return await asyncio.to_thread(get)

    async def health_check(self, node, through_metrics=False):
        """The exit code of `cturn-server --check` against `node` (the container
        health check): over the protocol, or through /healthz as it is run
        where metrics are on."""
        flags = ["--bind", node.host, "--port", str(node.port)]
        if through_metrics:
            line = await asyncio.to_thread(node.wait_for_log, r"\bmetrics-listening ")
            flags += ["--metrics", "127.0.0.1:" + re.search(r"port=(\d+)", line).group(1)]
        probe = await asyncio.create_subprocess_exec(
            node.binary, "--check", *flags,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        return await asyncio.wait_for(probe.wait(), DEFAULT_TIMEOUT)

    async def test_a_killed_nodes_users_are_disconnected_in_time(self):
        alice, bob, carol = await self.on(0, "alice"), await self.on(1, "bob"), await self.on(2, "carol")
        await form_room("lobby", alice, bob, carol)
        solo = await self.on(2, "solo")
        await solo.create("alone")

        killed_at = await self.kill_node(2)
        for member in (alice, bob):
            await member.expect_system("carol disconnected", timeout=BOUND + SLACK)
        self.assertLess(time.monotonic() - killed_at, BOUND + SLACK)

        # The names are free, the room it held alone is gone, the rest goes on.
        again = await self.on(0, "carol")
        await again.send(command("join", "alone"))
        await again.expect_error("Room does not exist")
        await again.send(command("username", "solo"))
        await again.expect_error("Username already set")
        # A look-alike of the reaped room (Cyrillic о): its skeleton went with it.
        await again.create("al\u043ene")
        # A look-alike of a reaped name (Greek omicron): its skeleton went with it.
        solo_again = await self.on(1, "s\u03bflo")
        await alice.send(command("message", "still here"))
        await bob.expect_message("alice", {"content": "still here"})
        await solo_again.expect_nothing()

    async def test_redis_killed_then_back(self):
        alice, bob, carol = await self.on(0, "alice"), await self.on(1, "bob"), await self.on(2, "carol")
        await form_room("lobby", alice, bob, carol)
        marks = [len(node.lines) for node in self.nodes]
        port = self.redis.port
        self.redis.kill()
        lost_at = time.monotonic()
        for client in (alice, bob, carol):
            await self.expect_unavailable(client, lost_at)
        # Turned away the same way while Redis is gone, and unhealthy.
        for node in self.nodes:
            late = await self.connect(node=node)
            await late.expect_system("Server unavailable")
            await late.expect_closed()
        self.assertEqual(await self.health_check(self.nodes[0]), 1)
        self.assertEqual(await self.health_check(self.nodes[2], through_metrics=True), 1)
        self.assertEqual(await self.healthz(self.nodes[1]), (503, "no redis\n"))

        self.redis = RedisProcess(port=port)
        self.addCleanup(self.redis.cleanup)
        await asyncio.to_thread(self.redis.start)
        for node, mark in zip(self.nodes, marks):
            await self.wait_until_serving(node, mark)
        self.assertEqual(await self.health_check(self.nodes[0]), 0)
        self.assertEqual(await self.health_check(self.nodes[2], through_metrics=True), 0)
        self.assertEqual(await self.healthz(self.nodes[1]), (200, "ok\n"))
        # Serving again without a restart: a fresh chat across nodes works,
        # and the old names are free.
        alice, bob, carol = await self.on(0, "alice"), await self.on(1, "bob"), await self.on(2, "carol")
        await form_room("lobby", alice, bob, carol)
        await carol.send(command("message", "back"))
        await alice.expect_message("carol", {"content": "back"})
        await bob.expect_message("carol", {"content": "back"})

    async def test_redis_stalled_for_five_seconds(self):
        alice, bob = await self.on(0, "alice"), await self.on(1, "bob")
        await form_room("lobby", alice, bob)
        marks = [len(node.lines) for node in self.nodes]
        self.redis.pause()
        stalled_at = time.monotonic()
        try:
            for client in (alice, bob):
                await self.expect_unavailable(client, stalled_at)
            await asyncio.sleep(max(0.0, 5.0 - (time.monotonic() - stalled_at)))
        finally:
            self.redis.resume()
        for node, mark in zip(self.nodes, marks):
            await self.wait_until_serving(node, mark)
        # Every node started afresh: the names held before the stall are free.
        alice, bob, carol = await self.on(0, "alice"), await self.on(1, "bob"), await self.on(2, "carol")
        await form_room("lobby", alice, bob, carol)
        await alice.send(command("message", "after the stall"))
        await bob.expect_message("alice", {"content": "after the stall"})
        await carol.expect_message("alice", {"content": "after the stall"})

    async def test_one_order_per_room_across_nodes(self):
        senders = [await self.on(i, f"sender{i}") for i in range(3)]
        readers = [await self.on(i, f"reader{i}") for i in range(3)]
        await form_room("lobby", *senders, *readers)
        count = 40

        async def burst(sender):
            await sender.send(*(command("message", f"{sender.name}#{n}") for n in range(count)))

        await asyncio.gather(*(burst(sender) for sender in senders))
        total = count * len(senders)
        seen = []
        for reader in readers:
            frames = [await reader.expect("message") for _ in range(total)]
            seen.append([f"{f.sender}:{f['body']['content']}" for f in frames])
        self.assertEqual(seen[0], seen[1])
        self.assertEqual(seen[0], seen[2])
        # Each sender's own messages keep their order too.
        for sender in senders:
            mine = [entry for entry in seen[0] if entry.startswith(sender.name + ":")]
            self.assertEqual(mine, [f"{sender.name}:{sender.name}#{n}" for n in range(count)])

    async def test_a_stopped_nodes_users_leave_at_once(self):
        alice, bob = await self.on(0, "alice"), await self.on(1, "bob")
        await form_room("lobby", alice, bob)
        node = self.nodes[1]
        stopped_at = time.monotonic()
        node.send_signal(signal.SIGTERM)
        await alice.expect_system("bob disconnected", timeout=BOUND + SLACK)
        # A graceful stop leaves the cluster at once, not when the lease ends.
        self.assertLess(time.monotonic() - stopped_at, 1.0 * TIMEOUT_SCALE + SLACK)
        await bob.expect_system("Server shutting down")
        await bob.expect_closed()
        await asyncio.to_thread(node.stop)
        await self.on(0, "bob")


if __name__ == "__main__":
    unittest.main()
